// The encoded table MST works on: one Int32Array of codes per column, plus each column's domain size.
import { SynthesisError, type ColumnCodec } from './encoding.js';

export interface EncodedTable {
  readonly names: readonly string[];
  readonly sizes: readonly number[];
  readonly columns: readonly Int32Array[];
  readonly rows: number;
}

/** Checks that an encoded table is well formed (every code inside its domain, equal column lengths). */
export function checkTable(table: EncodedTable): void {
  const { names, sizes, columns, rows } = table;
  if (names.length === 0) throw new SynthesisError('the table has no columns');
  if (sizes.length !== names.length || columns.length !== names.length) {
    throw new SynthesisError('names, sizes and columns must have the same length');
  }
  for (let j = 0; j < names.length; j++) {
    const size = sizes[j]!;
    const column = columns[j]!;
    if (!Number.isSafeInteger(size) || size < 1) throw new SynthesisError(`domain size of column "${names[j]}" must be a positive integer`);
    if (column.length !== rows) throw new SynthesisError(`column "${names[j]}" has ${column.length} codes, expected ${rows}`);
    for (let i = 0; i < rows; i++) {
      const code = column[i]!;
      if (code < 0 || code >= size) throw new SynthesisError(`column "${names[j]}" holds a code outside 0..${size - 1}`);
    }
  }
}

/** Reads row batches (values in the codecs' order) into codes. Rows with a value outside the declared
 * domain are skipped: a per-row filter keeps the sensitivity of every count at one row. */
export async function encodeRows(codecs: readonly ColumnCodec[], batches: AsyncIterable<unknown[][]>, signal?: AbortSignal): Promise<EncodedTable> {
  const width = codecs.length;
  let capacity = 1024;
  let columns = codecs.map(() => new Int32Array(capacity));
  let rows = 0;
  const codes = new Int32Array(width);
  for await (const batch of batches) {
    signal?.throwIfAborted();
    for (const row of batch) {
      if (!Array.isArray(row) || row.length < width) throw new SynthesisError(`each row must be an array of ${width} values`);
      let inDomain = true;
      for (let j = 0; j < width && inDomain; j++) {
        const code = codecs[j]!.encode(row[j]);
        codes[j] = code;
        inDomain = code >= 0;
      }
      if (!inDomain) continue;
      if (rows === capacity) {
        capacity *= 2;
        columns = columns.map((c) => {
          const grown = new Int32Array(capacity);
          grown.set(c);
          return grown;
        });
      }
      for (let j = 0; j < width; j++) columns[j]![rows] = codes[j]!;
      rows++;
    }
  }
  return {
    names: codecs.map((c) => c.name),
    sizes: codecs.map((c) => c.size),
    columns: columns.map((c) => c.slice(0, rows)),
    rows,
  };
}
