// Lint the TypeScript sources with type-aware rules; the build output is not linted.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What the dashboard's page script may use besides the language itself (it runs in a browser, not in Node). */
const browserGlobals = Object.fromEntries(
  ['window', 'document', 'location', 'history', 'sessionStorage', 'EventSource', 'fetch', 'uPlot'].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The resilience toolkit is loaded inside actors (ringmaster/resilience): of the project it may import only errors.ts.
    files: ['src/resilience/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./(?!errors\\.js$)', message: 'src/resilience may import only ../errors.js of the project (it must load in a worker without the system).' }] },
      ],
    },
  },
  {
    files: ['src/http/dashboard/static/**/*.js'],
    languageOptions: { sourceType: 'module', globals: browserGlobals },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { URL: 'readonly', process: 'readonly', console: 'readonly' } },
  },
);
