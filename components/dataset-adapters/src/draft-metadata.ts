// Drafts metadata from a dataset for the owner to review. Bounds, categories, nullability and the row count
// read from the data are private facts about it: each one is listed in `needsReview` and marked in the
// YAML, because publishing them unreviewed (e.g. a max that is one person's salary) leaks that data.
import { validateMetadata, type ColumnMetadata, type DatasetMetadata, type DatasetSource } from '@veil/dataset-metadata';
import { Document, isNode } from 'yaml';
import type { ColumnDescription, DatasetAdapter } from './types.js';

export interface DraftMetadataOptions {
  /** Strings and ints with at most this many distinct values get `categories`. Default 20. */
  categoryThreshold?: number;
  /** Record the exact row count as `rows` (also flagged for review). Default false. */
  includeRowCount?: boolean;
  /** Passed through unchanged (not read from data); its column must be among the drafted ones. */
  privacyUnit?: DatasetMetadata['privacy_unit'];
  /** Per-statement timeout for the reading queries. */
  timeoutMs?: number;
}

/** One value in the draft that was read from the data and would leak it if published unreviewed. */
export interface ReviewItem {
  /** Dotted path in the metadata, e.g. `columns.age.lower`. */
  path: string;
  column?: string;
  field: 'lower' | 'upper' | 'categories' | 'nullable' | 'rows';
  reason: string;
}

export interface MetadataDraft {
  metadata: DatasetMetadata;
  needsReview: ReviewItem[];
  /** Columns left out of the draft, with why (name not a plain identifier, type with no Veil equivalent). */
  skipped: { column: string; reason: string }[];
  /** The draft as YAML, each value read from the data marked with a `REVIEW:` comment. */
  yaml: string;
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function draftMetadata(adapter: DatasetAdapter, source: DatasetSource, opts: DraftMetadataOptions = {}): Promise<MetadataDraft> {
  const threshold = opts.categoryThreshold ?? 20;
  const described = await adapter.describe();
  const skipped: MetadataDraft['skipped'] = [];
  const usable = described.filter((column): column is ColumnDescription & { type: NonNullable<ColumnDescription['type']> } => {
    if (!PLAIN_IDENTIFIER.test(column.name)) {
      skipped.push({ column: column.name, reason: 'the name is not a plain identifier (letters, digits, _); rename it in a view to include it' });
      return false;
    }
    if (column.type === null) {
      skipped.push({ column: column.name, reason: `the engine type ${column.engineType} has no Veil column type` });
      return false;
    }
    return true;
  });

  const stats = await readColumnStats(adapter, usable, opts.timeoutMs);
  const needsReview: ReviewItem[] = [];
  const columns: Record<string, ColumnMetadata> = {};
  for (const column of usable) {
    const stat = stats.columns.get(column.name);
    const categories = stat && stat.distinct <= threshold && stat.distinct > 0 && (column.type === 'string' || column.type === 'int')
      ? await readCategories(adapter, column.name, opts.timeoutMs)
      : undefined;
    columns[column.name] = draftColumn(column, stat, categories, needsReview);
  }

  const draft: Record<string, unknown> = { source };
  if (opts.privacyUnit) draft.privacy_unit = opts.privacyUnit;
  if (opts.includeRowCount) {
    draft.rows = stats.rows;
    needsReview.push({ path: 'rows', field: 'rows', reason: 'the exact row count was read from the data' });
  }
  draft.columns = columns;
  const metadata = validateMetadata(draft);
  return { metadata, needsReview, skipped, yaml: renderYaml(metadata, needsReview) };
}

interface ColumnStats {
  min: unknown;
  max: unknown;
  distinct: number;
  nulls: number;
}

/** One scan for every column's min, max, distinct count and null count. */
async function readColumnStats(adapter: DatasetAdapter, columns: ColumnDescription[], timeoutMs: number | undefined): Promise<{ rows: number; columns: Map<string, ColumnStats> }> {
  const parts = ['COUNT(*)'];
  for (const { name, type } of columns) {
    const q = `"${name}"`;
    const ordered = type !== 'bool' && type !== 'string';
    parts.push(ordered ? `MIN(${q})` : 'NULL', ordered ? `MAX(${q})` : 'NULL', `COUNT(DISTINCT ${q})`, `COUNT(*) - COUNT(${q})`);
  }
  const { rows } = await adapter.query(`SELECT ${parts.join(', ')} FROM dataset`, [], timeoutMs === undefined ? {} : { timeoutMs });
  const row = rows[0] ?? [];
  const result = new Map<string, ColumnStats>();
  columns.forEach((column, index) => {
    const at = 1 + index * 4;
    result.set(column.name, { min: row[at], max: row[at + 1], distinct: Number(row[at + 2]), nulls: Number(row[at + 3]) });
  });
  return { rows: Number(row[0]), columns: result };
}

async function readCategories(adapter: DatasetAdapter, name: string, timeoutMs: number | undefined): Promise<unknown[]> {
  const q = `"${name}"`;
  const { rows } = await adapter.query(`SELECT DISTINCT ${q} FROM dataset WHERE ${q} IS NOT NULL ORDER BY 1`, [], timeoutMs === undefined ? {} : { timeoutMs });
  return rows.map((row) => row[0]);
}

function draftColumn(column: ColumnDescription & { type: NonNullable<ColumnDescription['type']> }, stat: ColumnStats | undefined, categories: unknown[] | undefined, review: ReviewItem[]): ColumnMetadata {
  const draft: Record<string, unknown> = { type: column.type };
  const flag = (field: ReviewItem['field'], reason: string): void => {
    review.push({ path: `columns.${column.name}.${field}`, column: column.name, field, reason });
  };
  if (stat && hasBounds(column.type) && usableBound(stat.min) && usableBound(stat.max)) {
    draft.lower = stat.min;
    draft.upper = stat.max;
    flag('lower', 'the smallest value in the data; widen it to a public bound (e.g. a domain limit) before publishing');
    flag('upper', 'the largest value in the data; widen it to a public bound before publishing');
  }
  if (categories && categories.every((c) => typeof c === 'string' || Number.isSafeInteger(c))) {
    draft.categories = categories;
    flag('categories', 'the distinct values present in the data; rare values can identify people — replace with the public list of possible values');
  }
  if (stat && stat.nulls > 0) {
    draft.nullable = true;
    flag('nullable', 'the data contains NULLs in this column');
  }
  return draft as ColumnMetadata;
}

function hasBounds(type: string): boolean {
  return type === 'int' || type === 'float' || type === 'date' || type === 'timestamp';
}

function usableBound(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function renderYaml(metadata: DatasetMetadata, review: ReviewItem[]): string {
  const doc = new Document(metadata);
  doc.commentBefore =
    ' DRAFT metadata. Every value marked REVIEW was read from the data and leaks it if published as is:\n' +
    ' replace bounds with public limits and categories with the public list of possible values.';
  for (const item of review) {
    const node: unknown = doc.getIn(item.path.split('.'), true);
    if (isNode(node)) node.comment = ` REVIEW: ${item.reason}`;
  }
  return doc.toString({ lineWidth: 0 });
}
