// Public interface of @veil/dummy-data: seeded random rows shaped by dataset metadata (free, no data read).
export { dummyRows, MAX_DUMMY_ROWS } from './dummy.js';
export type { DummyRows } from './dummy.js';
