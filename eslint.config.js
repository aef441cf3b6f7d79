// Lint the TypeScript sources with type-aware rules; the build output is not linted.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { LAYERS, checkImport, rowOf, ruleFor } from './scripts/layers.mjs';

const root = realpathSync(path.dirname(fileURLToPath(import.meta.url)));

/** A linted file's path relative to the repository root, with / separators (as scripts/layers.mjs takes it). */
function repoPath(file) {
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // not on disk (text linted under a file name): take the name as given
  }
  return path.relative(root, real).split(path.sep).join('/');
}

/**
 * `layers/imports`: an import from one folder of src/ (or workers/) to another
 * must be allowed by the layer table in scripts/layers.mjs (folder → the folders
 * it may import); the message names the row's rule. Every way of naming a module
 * counts: import and import type, export ... from, import(), import x = require(),
 * require(), typeof import(). The import path is resolved against the file, so a
 * file deeper in its folder (src/http/dashboard/) is judged like the others.
 * (A rule of its own rather than no-restricted-imports patterns: those match the
 * import's text, and the text of one arrow changes with the depth of the file.)
 */
const layers = {
  rules: {
    imports: {
      meta: {
        type: 'problem',
        docs: { description: 'Imports between folders follow the layer table in scripts/layers.mjs' },
        schema: [],
        messages: { layer: '{{message}}' },
      },
      create(context) {
        const file = repoPath(context.physicalFilename);
        const row = rowOf(file);
        if (row === undefined) return {};
        if (!(row in LAYERS)) return { Program: (node) => context.report({ node, messageId: 'layer', data: { message: ruleFor(row) } }) };
        const check = (source) => {
          if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
          const message = checkImport(file, source.value);
          if (message !== undefined) context.report({ node: source, messageId: 'layer', data: { message } });
        };
        return {
          ImportDeclaration: (node) => check(node.source),
          ExportNamedDeclaration: (node) => check(node.source),
          ExportAllDeclaration: (node) => check(node.source),
          ImportExpression: (node) => check(node.source),
          TSImportEqualsDeclaration: (node) => node.moduleReference.type === 'TSExternalModuleReference' && check(node.moduleReference.expression),
          TSImportType: (node) => check(node.source ?? node.argument?.literal),
          CallExpression: (node) => node.callee.type === 'Identifier' && node.callee.name === 'require' && check(node.arguments[0]),
        };
      },
    },
  },
};

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
    // The layers (imports point downward only): one table, scripts/layers.mjs, also read by
    // test/unit/architecture.test.ts. test/, bench/ and examples/ may import anything.
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    plugins: { layers },
    rules: { 'layers/imports': 'error' },
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
