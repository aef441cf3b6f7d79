// The dashboard's page, style sheet and script are plain files that tsc does
// not emit: copy them next to the compiled module that serves them, so that
// dist/ (what runs, and what the package ships) is complete by itself.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/http/dashboard/static/', import.meta.url);
const to = new URL('../dist/src/http/dashboard/static/', import.meta.url);
rmSync(to, { recursive: true, force: true }); // a file deleted from src/ must not linger in dist/
cpSync(from, to, { recursive: true });
