// Public interface of @veil/dataset-metadata: the validated metadata format of DESIGN §3.
export {
  MetadataError,
  hasPublicDomain,
  isBounded,
  metadataSchema,
  parseMetadata,
  validateMetadata,
} from './metadata.js';
export type { ColumnMetadata, ColumnType, DatasetMetadata, DatasetSource, PrivacyUnit } from './metadata.js';
