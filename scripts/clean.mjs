// Empty dist/ before a build, so files whose source was moved or deleted are not left behind (and shipped).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
