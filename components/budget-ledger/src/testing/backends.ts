// The two databases every ledger suite runs on: PGlite always, PostgreSQL when VEIL_TEST_DATABASE_URL is set.
import { postgresTestUrl } from '@veil/test-services';
import { openPgliteLedgerDatabase, openPostgresLedgerDatabase, type LedgerDatabase } from './databases.js';

export interface Backend {
  name: 'PGlite' | 'PostgreSQL';
  open: () => Promise<LedgerDatabase>;
  skip: boolean;
}

export function ledgerBackends(): Backend[] {
  const postgres = postgresTestUrl();
  return [
    { name: 'PGlite', open: openPgliteLedgerDatabase, skip: false },
    { name: 'PostgreSQL', open: () => openPostgresLedgerDatabase(postgres.url!), skip: postgres.url === undefined },
  ];
}

/** A clock the test moves by hand. */
export function manualClock(start = '2026-11-22T00:00:00.000Z'): { clock: () => Date; advance: (ms: number) => void } {
  let now = new Date(start).getTime();
  return { clock: () => new Date(now), advance: (ms) => void (now += ms) };
}
