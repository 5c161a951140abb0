-- Released answers are stored as `json`, not `jsonb`: they are written once on each query's path and read
-- back whole, never queried inside, and PostgreSQL parses a ~70 kB jsonb value for ~2 ms more than it
-- checks the same text as json. Matches `@db.Json` on these columns in prisma/schema.prisma.
ALTER TABLE "jobs" ALTER COLUMN "result" TYPE JSON USING "result"::json;
ALTER TABLE "query_archive" ALTER COLUMN "result" TYPE JSON USING "result"::json;
