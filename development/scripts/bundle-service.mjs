// Bundles a service project into <project>/dist/app/main.mjs (usage: node development/scripts/bundle-service.mjs
// projects/<name>): Veil's own bricks (TypeScript, decorators included) are
// compiled in; npm packages stay external and come from node_modules at run time (native DuckDB, PGlite's
// WebAssembly, Prisma's runtime). The admin store's migrations are copied beside the bundle, where the
// store looks for them (../prisma/migrations relative to the code).
import { cpSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const project = resolve(root, process.argv[2] ?? '');
if (!process.argv[2] || !existsSync(join(project, 'src', 'main.ts'))) {
  console.error('usage: node development/scripts/bundle-service.mjs projects/<name>   (needs src/main.ts)');
  process.exit(2);
}
const dist = join(project, 'dist');

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(project, 'src', 'main.ts')],
  outfile: join(dist, 'app', 'main.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  tsconfig: join(root, 'tsconfig.base.json'),
  banner: { js: "import { createRequire as veilCreateRequire } from 'node:module'; const require = veilCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'external-packages',
      setup(b) {
        // Bare imports are npm packages (external) unless they are Veil bricks (@veil/*).
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@veil/') || args.path.startsWith('node:') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
  logLevel: 'warning',
});
cpSync(join(root, 'components', 'admin-store', 'prisma', 'migrations'), join(dist, 'prisma', 'migrations'), { recursive: true });
console.log(`built ${relative(root, join(dist, 'app', 'main.mjs'))}`);
