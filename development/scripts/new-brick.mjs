#!/usr/bin/env node
// Creates a brick in the Polylith layout and registers its @veil/<name> alias.
// Usage: node development/scripts/new-brick.mjs <component|base|project> <name>
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, name] = process.argv.slice(2);
const folders = { component: 'components', base: 'bases', project: 'projects' };
if (!folders[kind] || !/^[a-z][a-z0-9-]*$/.test(name ?? '')) {
  console.error('usage: new-brick.mjs <component|base|project> <kebab-case-name>');
  process.exit(2);
}
const root = join(folders[kind], name);
if (existsSync(root)) {
  console.error(`${root} exists already`);
  process.exit(2);
}
mkdirSync(join(root, 'src'), { recursive: true });
const json = (value) => JSON.stringify(value, null, 2) + '\n';
writeFileSync(join(root, 'package.json'), json({
  name: `@veil/${name}`, version: '0.0.0', private: true, type: 'module',
  ...(kind === 'project' ? {} : { exports: { '.': './src/index.ts' } }),
}));
writeFileSync(join(root, 'project.json'), json({
  name, $schema: '../../node_modules/nx/schemas/project-schema.json',
  sourceRoot: `${root}/src`, // Nx forbids importing applications; bases are imported by projects, so only projects are applications.
  projectType: kind === 'project' ? 'application' : 'library',
  tags: [`type:${kind}`], targets: { lint: {}, typecheck: {}, test: {} },
}));
writeFileSync(join(root, 'tsconfig.json'), json({ extends: '../../tsconfig.base.json', include: ['src/**/*.ts'] }));
if (kind === 'project') {
  // A project is deployed, never imported: it has an entry point and no alias.
  writeFileSync(join(root, 'src', 'main.ts'), `// Entry point of the ${name} deployable.\n`);
  console.log(`created ${root}; run npm install`);
  process.exit(0);
}
writeFileSync(join(root, 'src', 'index.ts'), `// Public interface of @veil/${name}.\nexport {};\n`);

const base = JSON.parse(readFileSync('tsconfig.base.json', 'utf8'));
base.compilerOptions.paths[`@veil/${name}`] = [`${root}/src/index.ts`];
base.compilerOptions.paths = Object.fromEntries(Object.entries(base.compilerOptions.paths).sort());
writeFileSync('tsconfig.base.json', json(base));
console.log(`created ${root}; run npm install to link @veil/${name}`);
