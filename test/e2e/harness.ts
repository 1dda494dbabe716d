/**
 * End-to-end harness: the real local runtime (`local/main.ts`) on a free port,
 * and Debian's Chromium driven by playwright-core. Never downloads a browser.
 * Set E2E_BASE_URL to drive an already running dashboard instead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const resultsDir = join(repoRoot, 'test-results');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const READY_TIMEOUT_MS = 120_000;
/** The zone the test browser runs in. */
export const BROWSER_ZONE = 'America/New_York';

export interface Runtime {
  baseUrl: string;
  /** Everything the runtime printed, for failure messages. */
  output: () => string;
  /** Resolves when the demo seed has finished (at once for an external runtime). */
  seeded: (timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/** Stops the runtime and everything it started (DynamoDB Local) through its process group. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `local/main.ts` on a free port and resolves once it prints its ready line. */
export async function startRuntime(options: { demo?: boolean } = {}): Promise<Runtime> {
  if (process.env.E2E_BASE_URL) {
    const baseUrl = process.env.E2E_BASE_URL.replace(/\/$/, '');
    return { baseUrl, output: () => '', seeded: async () => {}, stop: async () => {} };
  }
  const port = await freePort();
  const args = ['local/main.ts', '--port', String(port), ...(options.demo === false ? ['--no-demo'] : [])];
  // Its own process group, so that stopping it also stops DynamoDB Local.
  const child = spawn(join(repoRoot, 'node_modules/.bin/tsx'), args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  const baseUrl = await new Promise<string>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`runtime not ready after ${READY_TIMEOUT_MS} ms:\n${output}`)),
      READY_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready at (http:\/\/\S+)/.exec(output);
      if (ready?.[1]) {
        clearTimeout(timer);
        done(ready[1].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`runtime exited with ${code} before it was ready:\n${output}`));
    });
  }).catch(async (error: Error) => {
    await stopGroup(child);
    throw error;
  });
  const seeded = async (timeoutMs = 600_000) => {
    const deadline = Date.now() + timeoutMs;
    // main.ts prints "demo data: N runs in S s" once seeding is done.
    while (!/^demo data: /m.test(output)) {
      if (child.exitCode !== null) throw new Error(`runtime exited while seeding:\n${output}`);
      if (Date.now() > deadline)
        throw new Error(`demo seed not finished after ${timeoutMs} ms:\n${output.slice(-2000)}`);
      await new Promise((done) => setTimeout(done, 500));
    }
  };
  return { baseUrl, output: () => output, seeded, stop: () => stopGroup(child) };
}

/** GET JSON from the runtime's API. */
export async function getJson<T>(baseUrl: string, path: string): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Resolves once the demo seed is visible in the last 30 days' summary. */
export async function waitForDemoData(
  baseUrl: string,
  minimumRuns = 100,
  timeoutMs = 120_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const summary = await getJson<{ executions: number }>(baseUrl, '/api/summary?tz=UTC');
    if (summary.executions >= minimumRuns) return summary.executions;
    if (Date.now() > deadline) throw new Error(`demo data did not arrive: ${summary.executions} runs`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close: () => Promise<void>;
}

/** Debian's Chromium, headless, with a throwaway profile. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    // Not UTC, so that "the browser's zone" differs from UTC as it does for most readers.
    timezoneId: BROWSER_ZONE,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page: Page): { errors: string[]; clear: () => void } {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  return { errors, clear: () => errors.splice(0) };
}

/**
 * Saves a screenshot under test-results/ (the whole page unless `fullPage` is
 * false). With UPDATE_SCREENSHOTS=1 one named `readme` is also written to
 * docs/screenshots/, the README's pictures: `UPDATE_SCREENSHOTS=1 npm run test:e2e`
 * refreshes them from a fresh `npm start` with its demo data.
 */
export async function screenshot(
  page: Page,
  name: string,
  options: { readme?: string; fullPage?: boolean } = {},
): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.png`);
  const fullPage = options.fullPage ?? true;
  await page.screenshot({ path, fullPage });
  if (options.readme && process.env.UPDATE_SCREENSHOTS === '1')
    await page.screenshot({ path: join(repoRoot, 'docs/screenshots', `${options.readme}.png`), fullPage });
  return path;
}
