import nx from '@nx/eslint-plugin';

// DESIGN §1: components import only other components' public interfaces, bases import components,
// projects import bases and components, development may import anything. Nothing imports a base but
// a project, and nothing reaches into another brick past its src/index.ts.
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.veil/**', '.nx/**', 'development/bench/results/**',
      '**/generated/**', 'development/lint-fixtures/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:component', onlyDependOnLibsWithTags: ['type:component'] },
            { sourceTag: 'type:base', onlyDependOnLibsWithTags: ['type:component'] },
            { sourceTag: 'type:project', onlyDependOnLibsWithTags: ['type:base', 'type:component'] },
            { sourceTag: 'type:development', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@veil/*/*'], message: 'Import a brick only through its public interface (@veil/<brick>).' }] },
      ],
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // noUncheckedIndexedAccess makes index reads optional; a checked '!' is the honest way to say so.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];
