/**
 * `npm run bench [-- SUITE ...] [--flags]`: prints performance figures.
 * Suites live in bench/<suite>.ts and export `run(args: string[])`. With no
 * suite named, all run in order, each in a process of its own. Figures are
 * printed (the reliability load suite also keeps its own in bench/results/);
 * nothing here asserts on time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['ingest', 'aggregate', 'query', 'dashboard', 'cost'] as const;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const named = args.filter((arg) => !arg.startsWith('-') && (SUITES as readonly string[]).includes(arg));
const flags = args.filter((arg) => !named.includes(arg));
const selected = named.length > 0 ? named : [...SUITES];

// Each suite in a process of its own: the handler modules build their SDK
// clients once, at import, against the DynamoDB Local a suite starts, so two
// suites in one process would share a client pointed at a stopped database.
if (selected.length > 1) {
  let failed = 0;
  for (const suite of selected) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), suite, ...flags],
      {
        stdio: 'inherit',
      },
    );
    if (child.status !== 0) failed++;
  }
  process.exit(failed === 0 ? 0 : 1);
}

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
