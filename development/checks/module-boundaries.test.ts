// Proves that lint enforces DESIGN §1: the same rules `npm test` runs, applied to code placed in a
// component that breaks the boundaries.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: workspaceRoot });

async function lintAsIf(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${workspaceRoot}${filePath}` });
  return result!.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it('accepts a component importing another component through its public interface', async () => {
    const errors = await lintAsIf('components/dp-sql/src/example.ts', "import { createFreshDatabase } from '@veil/test-services';\nexport const f = createFreshDatabase;\n");
    expect(errors).toEqual([]);
  });

  it('rejects a deep import into another brick', async () => {
    const errors = await lintAsIf('components/dp-sql/src/example.ts', "import { x } from '@veil/test-services/src/index.js';\nexport const f = x;\n");
    expect(errors.some((e) => e.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('rejects reaching into another brick by a relative path', async () => {
    const errors = await lintAsIf('components/dp-sql/src/example.ts', "import { createFreshDatabase } from '../../test-services/src/index.js';\nexport const f = createFreshDatabase;\n");
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });
});

describe('module boundaries: bases', () => {
  it('rejects a component importing a base', async () => {
    const errors = await lintAsIf('components/dp-sql/src/example.ts', "import * as api from '@veil/query-api';\nexport const f = api;\n");
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });

  it('rejects a base importing another base', async () => {
    const errors = await lintAsIf('bases/worker/src/example.ts', "import * as api from '@veil/query-api';\nexport const f = api;\n");
    expect(errors.some((e) => e.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
  });
});
