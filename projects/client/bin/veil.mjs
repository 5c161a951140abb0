#!/usr/bin/env node
// `npx veil …` inside the workspace: runs the TypeScript CLI through tsx. The published package ships the
// esbuild bundle (dist/veil.mjs, built by `nx run client:build`) instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/veil.mjs', import.meta.url));
if (existsSync(bundle) && process.env.VEIL_CLI_FROM_SOURCE !== '1') {
  await import(bundle);
} else {
  const { tsImport } = await import('tsx/esm/api');
  await tsImport('../src/main.ts', import.meta.url);
}
