// Public interface of @veil/synthesizer: MST synthetic data (McKenna, Miklau, Sheldon 2021) over
// metadata-declared domains, and free dummy data. See README.md.
export { mstBudget, mstCost, type MstBudget } from './budget.js';
export { dummyRows, DEFAULT_DATE_RANGE, DEFAULT_NUMBER_RANGE, DUMMY_NULL_RATE, type DummyOptions } from './dummy.js';
export { buildCodecs, DEFAULT_BINS, SynthesisError, type ColumnCodec, type EncodingOptions } from './encoding.js';
export { DEFAULT_ITERATIONS, type MstReport, type SynthesisPhase, type SynthesisProgress } from './mst.js';
export {
  planSynthesis,
  synthesize,
  type SynthesisPlan,
  type SynthesisRequest,
  type SynthesisRunOptions,
  type SyntheticData,
} from './synthesize.js';
export { encodeRows, type EncodedTable } from './table.js';
