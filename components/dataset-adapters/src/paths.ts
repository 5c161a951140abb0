// File sources: resolve the owner's path against the data directory, follow symlinks and `..`, and refuse
// anything outside the allowed roots. Format from metadata or the extension.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AdapterError } from './errors.js';

export type FileFormat = 'csv' | 'parquet' | 'json';

/** Glob characters would make DuckDB read a set of files, which the allow-list check cannot vouch for. */
const GLOB_CHARACTERS = /[*?[\]{}]/;

export async function resolveDataFile(filePath: string, dataDir: string, allowedRoots: readonly string[] | undefined): Promise<string> {
  if (filePath.includes('\0') || GLOB_CHARACTERS.test(filePath)) {
    throw new AdapterError('invalid-source', 'the file path must name a single file (no glob characters * ? [ ] { })');
  }
  const absolute = path.resolve(dataDir, filePath);
  let real: string;
  try {
    real = await realpath(absolute);
    if (!(await stat(real)).isFile()) throw new Error('not a regular file');
  } catch (error) {
    throw new AdapterError('not-found', 'the dataset file does not exist or is not a regular file', error);
  }
  if (allowedRoots && !(await isInsideAnyRoot(real, allowedRoots))) {
    throw new AdapterError('path-not-allowed', 'the dataset file is outside the directories this server may read (allowed roots)');
  }
  return real;
}

async function isInsideAnyRoot(real: string, roots: readonly string[]): Promise<boolean> {
  for (const root of roots) {
    const realRoot = await realpath(path.resolve(root)).catch(() => undefined);
    if (realRoot === undefined) continue;
    const relative = path.relative(realRoot, real);
    const escapes = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
    if (relative !== '' && !escapes) return true;
  }
  return false;
}

const EXTENSIONS: Record<string, FileFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.json': 'json',
  '.jsonl': 'json',
  '.ndjson': 'json',
};

/** Format declared in metadata, else read from the extension (a compression suffix like .gz is skipped). */
export function detectFormat(location: string, declared: FileFormat | undefined): FileFormat {
  if (declared) return declared;
  const pathname = location.includes('://') ? new URL(location).pathname : location;
  const withoutCompression = pathname.replace(/\.(gz|zst)$/i, '');
  const format = EXTENSIONS[path.extname(withoutCompression).toLowerCase()];
  if (!format) {
    throw new AdapterError('invalid-source', 'cannot tell the file format from its extension; set `format` (csv, parquet or json) in the metadata source');
  }
  return format;
}
