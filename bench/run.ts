/**
 * `npm run bench [-- SUITE ...] [--flags]`: prints performance figures.
 * Suites live in bench/<suite>.ts and export `run(args: string[])`. With no
 * suite named, all run in order. Figures are printed and appended to
 * bench/results/latest.json; nothing here asserts on time.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['ingest', 'aggregate', 'query', 'dashboard'] as const;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const named = args.filter((arg) => !arg.startsWith('-') && (SUITES as readonly string[]).includes(arg));
const flags = args.filter((arg) => !named.includes(arg));
const selected = named.length > 0 ? named : [...SUITES];

for (const suite of selected) {
  const file = join(here, `${suite}.ts`);
  if (!existsSync(file)) {
    console.log(`\n== ${suite}: not built yet (bench/${suite}.ts missing)`);
    continue;
  }
  console.log(`\n== ${suite}`);
  const module = (await import(file)) as { run: (flags: string[]) => Promise<void> };
  await module.run(flags);
}
process.exit(0);
