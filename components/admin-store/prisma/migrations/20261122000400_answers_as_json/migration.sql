-- Released answers are stored as `json`, not `jsonb`: they are written once on each query's path and read
-- back whole, never queried inside, and PostgreSQL parses a ~70 kB jsonb value for ~2 ms more than it
-- checks the same text as json. Matches `@db.Json` on these columns in prisma/schema.prisma.
ALTER TABLE "jobs" ALTER COLUMN "result" TYPE JSON USING "result"::json;
ALTER TABLE "query_archive" ALTER COLUMN "result" TYPE JSON USING "result"::json;

-- Compressed with lz4 where the server has it (PostgreSQL builds usually do; PGlite does not): as small as
-- the default pglz on answers and about twice as fast to write (0.7 vs 1.3 ms for a 60 kB answer here).
DO $$
BEGIN
  ALTER TABLE "jobs" ALTER COLUMN "result" SET COMPRESSION lz4;
  ALTER TABLE "query_archive" ALTER COLUMN "result" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END $$;
