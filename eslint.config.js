// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// pg's classes come from src/postgres/pg.ts, which loads pg without its probe's start-up cost (issue #16).
const pgThroughLoader = {
  name: 'pg',
  allowTypeImports: true,
  message: "import pg's Client and Query from src/postgres/pg.ts (types may still come from 'pg')",
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/generated/', 'capsules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers (README "Layout"): only commands/ and cli/ may reach the services (the programmatic API is
  // services/index.ts, itself a service-layer module); only they may know oclif. Domain modules return data; services return typed results.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/commands/**', 'src/cli/**', 'src/services/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [pgThroughLoader],
          patterns: [
            { group: ['**/services/**'], message: 'only src/commands/ and src/cli/ may import services/' },
            { group: ['@oclif/*', '@oclif/**'], message: 'only src/commands/ and src/cli/ may use oclif' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/(^|\\/)services\\//]',
          message: 'only src/commands/ and src/cli/ may import services/',
        },
      ],
    },
  },
  {
    files: ['src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [pgThroughLoader],
          patterns: [
            { group: ['@oclif/*', '@oclif/**'], message: 'only src/commands/ and src/cli/ may use oclif' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: globals.node },
  },
  prettier,
);
