// Prisma CLI configuration for this brick. The store applies migrations itself (src/migrate.ts); this file
// lets the CLI find the schema and the migrations, e.g. `DATABASE_URL=… npx prisma migrate status` where the
// schema engine is available. `prisma generate` needs no database URL.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL },
});
