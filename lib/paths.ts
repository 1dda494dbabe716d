import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionName } from '../functions/store/permissions';

/** The repository root, found from this file so that the app runs from any working directory. */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a Lambda entry file under functions/. */
export function functionEntry(name: FunctionName): string {
  return join(repoRoot, 'functions', `${name}.ts`);
}

/** The built dashboard, if `npm run build:frontend` (vite build) has run. */
export function frontendDist(): string | undefined {
  const dist = join(repoRoot, 'frontend', 'dist');
  return existsSync(join(dist, 'index.html')) ? dist : undefined;
}
