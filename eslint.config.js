// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
