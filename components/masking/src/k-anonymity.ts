// k-anonymity over the declared quasi-identifiers of the masked output: group sizes, the smallest one (k),
// and — when an export requires k — suppression of the rows of smaller groups.

export interface GroupSizeBucket {
  /** Rows per group. */
  size: number;
  /** Number of groups of that size. */
  groups: number;
  /** size × groups. */
  rows: number;
}

export interface KAnonymityReport {
  quasiIdentifiers: string[];
  /** Rows measured, before any suppression. */
  rows: number;
  groups: number;
  /** The smallest group size; null when there are no rows. */
  k: number | null;
  /** Group sizes, ascending. */
  distribution: GroupSizeBucket[];
  /** The k an export required, when it did. */
  requiredK: number | null;
  suppressedRows: number;
  suppressedGroups: number;
  /** The smallest group size of what was released. */
  kReleased: number | null;
}

/** Builds the report from a size → group count histogram. */
export function reportFromHistogram(quasiIdentifiers: string[], histogram: Map<number, number>, requiredK: number | null): KAnonymityReport {
  const distribution = [...histogram.entries()]
    .sort(([a], [b]) => a - b)
    .map(([size, groups]) => ({ size, groups, rows: size * groups }));
  const suppressed = requiredK === null ? [] : distribution.filter((d) => d.size < requiredK);
  const released = distribution.filter((d) => !suppressed.includes(d));
  return {
    quasiIdentifiers,
    rows: distribution.reduce((n, d) => n + d.rows, 0),
    groups: distribution.reduce((n, d) => n + d.groups, 0),
    k: distribution[0]?.size ?? null,
    distribution,
    requiredK,
    suppressedRows: suppressed.reduce((n, d) => n + d.rows, 0),
    suppressedGroups: suppressed.reduce((n, d) => n + d.groups, 0),
    kReleased: released[0]?.size ?? null,
  };
}

/** A collision-free key for a tuple of values (type-tagged, so 1 and '1' differ, null is its own value). */
function groupKey(row: unknown[], indexes: number[]): string {
  return JSON.stringify(indexes.map((i) => {
    const v = row[i];
    return v === null || v === undefined ? null : typeof v === 'bigint' ? ['n', v.toString()] : [typeof v, v];
  }));
}

function qiIndexes(columns: string[], quasiIdentifiers: string[]): number[] {
  return quasiIdentifiers.map((q) => {
    const index = columns.indexOf(q);
    if (index < 0) throw new RangeError(`quasi-identifier ${q} is not an output column`);
    return index;
  });
}

/** The report over rows held in memory (a masked sample). */
export function kAnonymityReport(rows: unknown[][], columns: string[], quasiIdentifiers: string[], requiredK: number | null = null): KAnonymityReport {
  const indexes = qiIndexes(columns, quasiIdentifiers);
  const sizes = new Map<string, number>();
  for (const row of rows) {
    const key = groupKey(row, indexes);
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  const histogram = new Map<number, number>();
  for (const size of sizes.values()) histogram.set(size, (histogram.get(size) ?? 0) + 1);
  return reportFromHistogram(quasiIdentifiers, histogram, requiredK);
}

/** Rows of groups with at least k members, with the report (rows in memory). */
export function enforceKAnonymity(rows: unknown[][], columns: string[], quasiIdentifiers: string[], k: number): { rows: unknown[][]; report: KAnonymityReport } {
  const indexes = qiIndexes(columns, quasiIdentifiers);
  const sizes = new Map<string, number>();
  const keys = rows.map((row) => {
    const key = groupKey(row, indexes);
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
    return key;
  });
  const kept = rows.filter((_row, i) => sizes.get(keys[i]!)! >= k);
  return { rows: kept, report: kAnonymityReport(rows, columns, quasiIdentifiers, k) };
}
