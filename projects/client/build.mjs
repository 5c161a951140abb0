// Bundles the CLI (with the SDK, commander and cli-progress) into one file for publishing.
import { build } from 'esbuild';

await build({
  entryPoints: ['projects/client/src/main.ts'],
  outfile: 'projects/client/dist/veil.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "#!/usr/bin/env node\nimport { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  tsconfig: 'tsconfig.base.json',
  logLevel: 'warning',
});
console.log('built projects/client/dist/veil.mjs');
