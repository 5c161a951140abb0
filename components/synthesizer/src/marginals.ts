// Exact counts of 1-way and 2-way marginals over an encoded table. Cell (a, b) of a 2-way marginal is at
// index a·size(b) + b.

export function countOneWay(column: Int32Array, size: number): Int32Array {
  const counts = new Int32Array(size);
  for (let i = 0; i < column.length; i++) counts[column[i]!]!++;
  return counts;
}

export function countTwoWay(a: Int32Array, sizeA: number, b: Int32Array, sizeB: number): Int32Array {
  const counts = new Int32Array(sizeA * sizeB);
  for (let i = 0; i < a.length; i++) counts[a[i]! * sizeB + b[i]!]!++;
  return counts;
}

/** Applies a code mapping (old code → new code) to a column. */
export function remapColumn(column: Int32Array, mapping: Int32Array): Int32Array {
  const out = new Int32Array(column.length);
  for (let i = 0; i < column.length; i++) out[i] = mapping[column[i]!]!;
  return out;
}
