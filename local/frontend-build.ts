/**
 * Builds the dashboard when frontend/dist is missing or older than its
 * sources, so `npm start` on a fresh clone (or after a pull) shows the
 * current dashboard without a separate build step.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FrontendPaths {
  readonly repoRoot: string;
  readonly frontendDir: string;
  readonly distDir: string;
  readonly viteConfig: string;
}

export function frontendPaths(repoRoot: string): FrontendPaths {
  const frontendDir = join(repoRoot, 'frontend');
  return {
    repoRoot,
    frontendDir,
    distDir: join(frontendDir, 'dist'),
    viteConfig: join(frontendDir, 'vite.config.ts'),
  };
}

/** The newest modification time of any file under `dir`, skipping build output and dependencies. */
function newestSourceMtime(
  dir: string,
  skip: ReadonlySet<string> = new Set(['dist', 'node_modules']),
): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path, skip));
    else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

type BuildDecision = 'no-frontend' | 'missing' | 'stale' | 'fresh';

function buildDecision(paths: FrontendPaths): BuildDecision {
  if (!existsSync(paths.viteConfig)) return 'no-frontend';
  const index = join(paths.distDir, 'index.html');
  if (!existsSync(index)) return 'missing';
  // The dashboard imports the API's pure domain modules (targets, date helpers) too.
  const newest = Math.max(
    newestSourceMtime(paths.frontendDir),
    newestSourceMtime(join(paths.repoRoot, 'functions', 'domain')),
  );
  return statSync(index).mtimeMs < newest ? 'stale' : 'fresh';
}

function viteBin(repoRoot: string): string {
  const require = createRequire(join(repoRoot, 'package.json'));
  return join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
}

/**
 * Runs `vite build` in a child process (its memory goes away with it) and
 * reports its output line by line. Resolves with the directory to serve, or
 * undefined when there is nothing to serve.
 */
export async function ensureFrontendBuilt(
  paths: FrontendPaths,
  report: (line: string) => void,
): Promise<string | undefined> {
  const decision = buildDecision(paths);
  if (decision === 'no-frontend') {
    report(`warning: ${paths.viteConfig} not found; serving a placeholder page at /`);
    return undefined;
  }
  if (decision === 'fresh') {
    report('dashboard build is up to date');
    return paths.distDir;
  }
  // Two runtimes starting together (test projects in parallel) must not both
  // empty and rewrite dist/: one builds, the other waits and then re-checks.
  const lock = await acquireBuildLock(paths.repoRoot, report);
  try {
    if (!lock.waitedForOther || buildDecision(paths) !== 'fresh')
      return await runViteBuild(paths, decision, report);
    report('dashboard built by another process');
    return paths.distDir;
  } finally {
    lock.release();
  }
}

const lockStaleMs = 180_000;

async function acquireBuildLock(
  repoRoot: string,
  report: (line: string) => void,
): Promise<{ waitedForOther: boolean; release: () => void }> {
  const lockDir = join(
    tmpdir(),
    `fixer-metrics-vite-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 12)}.lock`,
  );
  let waitedForOther = false;
  for (;;) {
    try {
      mkdirSync(lockDir); // atomic: exactly one process succeeds
      return { waitedForOther, release: () => rmSync(lockDir, { recursive: true, force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > lockStaleMs) {
      rmSync(lockDir, { recursive: true, force: true }); // left by a build that crashed
      continue;
    }
    if (!waitedForOther) report('another process is building the dashboard; waiting ...');
    waitedForOther = true;
    await new Promise((done) => setTimeout(done, 250));
  }
}

async function runViteBuild(
  paths: FrontendPaths,
  decision: BuildDecision,
  report: (line: string) => void,
): Promise<string | undefined> {
  report(`building the dashboard (${decision === 'missing' ? 'no build yet' : 'sources changed'}) ...`);
  const startedAt = Date.now();
  const exitCode = await new Promise<number>((done) => {
    const child = spawn(process.execPath, [viteBin(paths.repoRoot), 'build', '--config', paths.viteConfig], {
      cwd: paths.repoRoot,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') report(`  vite: ${line.trimEnd()}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (error) => {
      report(`  vite: ${error.message}`);
      done(1);
    });
    child.on('exit', (code) => done(code ?? 1));
  });
  const hasBuild = existsSync(join(paths.distDir, 'index.html'));
  if (exitCode !== 0) {
    report(
      `warning: the dashboard build failed (exit ${exitCode})${hasBuild ? '; serving the previous build' : ''}`,
    );
    return hasBuild ? paths.distDir : undefined;
  }
  report(`dashboard built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return paths.distDir;
}
