// `npm start` runs this file with tsx, which reads no tsconfig from the workspace root, so the NestJS
// decorators of the API would not compile. It loads the server through tsx again with this project's
// tsconfig (experimentalDecorators on, via tsconfig.base.json). Bundled builds (esbuild) need no such step.
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

await tsImport('./start.ts', { parentURL: import.meta.url, tsconfig: fileURLToPath(new URL('../tsconfig.start.json', import.meta.url)) });
