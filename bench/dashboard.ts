/**
 * `npm run bench -- dashboard`: the dashboard against its budgets (issue 6).
 *
 * - JavaScript size, gzip -9: the eager chunks (index.html's entry and what it
 *   imports statically) against 40 KB; the lazy chunks (drill-down, CSV
 *   writer, oidc-session with oidc-client-ts when auth is on) listed apart, and the total.
 *   Then, from the loads below, what the three tabs fetched: the eager
 *   chunks plus the lazy ones the tabs load (frontend/src/tabs/tab-chunk.ts),
 *   the JavaScript a reader of all three tabs loads.
 * - First chart: the 'first-chart' mark (set after the first uPlot draw),
 *   in ms after navigation start, per tab over a few loads, against 500 ms;
 *   with 90 days of demo data on localhost in headless Chromium.
 * - Slowest chart render: the longest 'chart-render' measure of each tab,
 *   against 16 ms; then again with the API's answers replayed from memory
 *   (withApiReplayed), so that the runtime and DynamoDB Local, which share
 *   this machine's cores, are not computing the tab's other answers while
 *   the browser draws.
 * - Beside the first chart, when the timeseries answer arrived (its
 *   responseEnd): the part of the first chart's time that the API takes.
 *
 * Flags: --loads N (per tab and range, default 5); --fresh seeds the demo
 * store again instead of topping up the one kept in the temp directory.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { AGGREGATE_LAYOUT } from '../functions/store/aggregate-keys';
import { frontendPaths } from '../local/frontend-build';
import { repoRoot, startLocalRuntime } from '../local/runtime';
import { launchBrowser } from '../test/e2e/harness';
import { flagNumber, percentile } from './support';

const BUDGET = { jsGzipBytes: 40_000, firstChartMs: 500, chartRenderMs: 16 } as const;
const TABS = ['overview', 'efficiency', 'errors'] as const;
const RANGES = ['30d', '90d'] as const;

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER');

function buildFrontend(): Promise<void> {
  const vite = join(repoRoot, 'node_modules/vite/bin/vite.js');
  const config = frontendPaths(repoRoot).viteConfig;
  return new Promise((done, fail) => {
    let output = '';
    const child = spawn(process.execPath, [vite, 'build', '--config', config, '--logLevel', 'warn'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? done() : fail(new Error(`vite build failed (${code}):\n${output}`)),
    );
  });
}

interface ChunkSize {
  file: string;
  bytes: number;
  gzip: number;
  eager: boolean;
}

/** Every JS file of the build; eager = reachable from index.html through static imports. */
export function measureChunks(distDir: string): ChunkSize[] {
  const assets = join(distDir, 'assets');
  const code = new Map<string, string>();
  for (const file of readdirSync(assets))
    if (file.endsWith('.js')) code.set(file, readFileSync(join(assets, file), 'utf8'));
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const pending = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/assets\/([^"]+\.js)"/g)].map(
    (m) => m[1] as string,
  );
  const eager = new Set<string>();
  // Static `import … from "./x.js"`, `import "./x.js"` and `export … from "./x.js"`; never `import(…)`.
  const staticImport = /\b(?:import|export)\s*(?!\()(?:[\w$\s{},*]*?\bfrom\s*)?["'`]\.\/([\w.-]+\.js)["'`]/g;
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (eager.has(file)) continue;
    eager.add(file);
    for (const match of (code.get(file) ?? '').matchAll(staticImport)) pending.push(match[1] as string);
  }
  return [...code].map(([file, text]) => ({
    file,
    bytes: Buffer.byteLength(text),
    gzip: gzipSync(text, { level: 9 }).length,
    eager: eager.has(file),
  }));
}

interface Load {
  firstChartMs: number;
  timeseriesMs: number;
  paintedMs: number;
  slowestRenderMs: number;
  slowestChart: string;
  renders: number;
}

/** Marks the first frame after the 'first-chart' mark: the chart is on screen then. */
const PAINT_PROBE = `(() => {
  const check = () => {
    if (performance.getEntriesByName('first-chart', 'mark').length > 0)
      requestAnimationFrame(() => setTimeout(() => performance.mark('bench-first-chart-painted'), 0));
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

// Page-side code as strings: tsx would wrap functions passed to the page in helpers it does not have.
const PAINTED = `performance.getEntriesByName('bench-first-chart-painted', 'mark').length > 0`;
const ALL_CHARTS_DRAWN = `[...document.querySelectorAll('.chart-box')].every((box) => box.querySelector('canvas'))`;
const READ_TIMINGS = `(() => {
  const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? Number.NaN;
  const renders = performance.getEntriesByName('chart-render', 'measure');
  let slowest;
  for (const entry of renders) if (!slowest || entry.duration > slowest.duration) slowest = entry;
  const timeseries = performance.getEntriesByType('resource').find((entry) => entry.name.includes('/api/timeseries?'));
  return {
    firstChartMs: mark('first-chart'),
    timeseriesMs: timeseries?.responseEnd ?? Number.NaN,
    paintedMs: mark('bench-first-chart-painted'),
    slowestRenderMs: slowest?.duration ?? Number.NaN,
    slowestChart: slowest?.detail?.chart ?? '',
    renders: renders.length,
  };
})()`;

async function loadTab(page: Page, url: string): Promise<Load> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(PAINTED, null, { timeout: 30_000 });
  // Every chart of the tab drawn, then a moment for late data (a second request, a resize).
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(ALL_CHARTS_DRAWN, null, { timeout: 30_000 });
  await page.waitForTimeout(300);
  return (await page.evaluate(READ_TIMINGS)) as Load;
}

/** Each tab and range loaded `loads` times, in the bench's order. */
async function loadEveryTab(page: Page, origin: string, loads: number): Promise<Map<string, Load[]>> {
  const results = new Map<string, Load[]>();
  for (const range of RANGES) {
    for (const tab of TABS) {
      const row: Load[] = [];
      for (let i = 0; i < loads; i++) row.push(await loadTab(page, `${origin}/?tab=${tab}&range=${range}`));
      results.set(`${tab} ${range}`, row);
    }
  }
  return results;
}

const slowestOf = (row: Load[]) => row.reduce((a, b) => (b.slowestRenderMs > a.slowestRenderMs ? b : a));

/**
 * Runs `measure` with every /api request answered from memory: the first
 * request of a URL goes to the runtime and its answer is kept, later ones get
 * that answer at once. The renders then share the two cores with the browser
 * alone, not with the runtime and DynamoDB Local computing the tab's other
 * answers meanwhile, as a reader's browser does not share its CPU with the
 * deployed API.
 */
async function withApiReplayed<T>(page: Page, measure: () => Promise<T>): Promise<T> {
  const answers = new Map<string, { status: number; headers: Record<string, string>; body: Buffer }>();
  await page.route('**/api/**', async (route) => {
    const url = route.request().url();
    let answer = answers.get(url);
    if (!answer) {
      const response = await route.fetch();
      answer = { status: response.status(), headers: response.headers(), body: await response.body() };
      answers.set(url, answer);
    }
    await route.fulfill(answer);
  });
  try {
    return await measure();
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
}

export async function run(flags: string[]): Promise<void> {
  const loads = flagNumber(flags, '--loads', 5);
  const [load1, load5] = loadavg();
  console.log(`load average at start: ${round(load1 ?? 0, 2)} (1 min), ${round(load5 ?? 0, 2)} (5 min)`);

  console.log('building the dashboard ...');
  await buildFrontend();
  const chunks = measureChunks(frontendPaths(repoRoot).distDir);
  const sum = (list: ChunkSize[]) => list.reduce((total, chunk) => total + chunk.gzip, 0);
  const eager = chunks.filter((chunk) => chunk.eager);
  const lazy = chunks.filter((chunk) => !chunk.eager);
  const eagerGzip = sum(eager);
  console.log('\nJavaScript (gzip -9 bytes):');
  console.table(
    Object.fromEntries(
      [...eager, ...lazy].map((chunk) => [
        chunk.file,
        { loaded: chunk.eager ? 'on start' : 'lazily', bytes: chunk.bytes, gzip: chunk.gzip },
      ]),
    ),
  );
  const auth = lazy.filter((chunk) => chunk.file.startsWith('oidc-'));
  console.log(
    `eager ${eagerGzip} B (budget ${BUDGET.jsGzipBytes} B: ${verdict(eagerGzip <= BUDGET.jsGzipBytes)}); ` +
      `lazy ${sum(lazy)} B (auth only ${sum(auth)} B); everything without auth ${eagerGzip + sum(lazy) - sum(auth)} B; total ${sum(chunks)} B`,
  );

  // The seeded store is kept between runs (seeding 90 days takes minutes): a run only tops it up.
  // It is named by the aggregate layout, as a store of another layout reads as empty.
  const dataDir = join(tmpdir(), `fixer-bench-dashboard-90d-layout${AGGREGATE_LAYOUT}`);
  if (flags.includes('--fresh')) await rm(dataDir, { recursive: true, force: true });
  console.log(`\nstarting the local runtime with 90 days of demo data in ${dataDir} ...`);
  const seedStarted = performance.now();
  const runtime = await startLocalRuntime({
    port: 0,
    demo: true,
    demoDays: 90,
    dataDir,
    quiet: true,
    buildFrontend: false,
  });
  try {
    const seed = await runtime.seeding;
    await runtime.poller.waitUntilCaughtUp(300_000);
    console.log(
      `${seed?.runs ?? 0} demo runs seeded (0: already there) and aggregated in ${round((performance.now() - seedStarted) / 1000)} s`,
    );
    const browser = await launchBrowser();
    try {
      const { context, page } = browser;
      await context.addInitScript(PAINT_PROBE);
      const errors: string[] = [];
      const fetched = new Set<string>();
      page.on('request', (request) => {
        const match = /\/assets\/([^/?]+\.js)$/.exec(new URL(request.url()).pathname);
        if (match) fetched.add(match[1] as string);
      });
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));

      // The very first load: nothing cached, Chromium just started.
      const cold = await loadTab(page, `${runtime.url}/?tab=overview`);
      const rows: Record<string, Record<string, number | string>> = {};
      for (const [name, results] of await loadEveryTab(page, runtime.url, loads)) {
        const first = results.map((r) => r.firstChartMs);
        const painted = results.map((r) => r.paintedMs);
        const answered = results.map((r) => r.timeseriesMs);
        const slowest = slowestOf(results);
        const maxFirst = Math.max(...first);
        rows[name] = {
          'first chart p50 ms': round(percentile(first, 0.5)),
          'first chart max ms': round(maxFirst),
          'painted p50 ms': round(percentile(painted, 0.5)),
          'timeseries answered p50 ms': round(percentile(answered, 0.5)),
          [`≤ ${BUDGET.firstChartMs} ms`]: verdict(maxFirst <= BUDGET.firstChartMs),
          'slowest render ms': round(slowest.slowestRenderMs),
          [`≤ ${BUDGET.chartRenderMs} ms`]: verdict(slowest.slowestRenderMs <= BUDGET.chartRenderMs),
          'slowest chart': slowest.slowestChart,
          renders: Math.max(...results.map((r) => r.renders)),
        };
      }
      console.log(
        `\nfirst load, cold cache (overview 30d): timeseries answered ${round(cold.timeseriesMs)} ms, first chart ${round(cold.firstChartMs)} ms, ` +
          `painted ${round(cold.paintedMs)} ms, slowest render ${round(cold.slowestRenderMs)} ms (${cold.slowestChart})`,
      );
      console.log(
        `${loads} loads per row; first chart = 'first-chart' mark after navigation start; painted = first frame after it; ` +
          'timeseries answered = responseEnd of /api/timeseries',
      );
      console.table(rows);

      // The same loads with the API's answers replayed from memory (one live load per URL first).
      const replayed = await withApiReplayed(page, async () => {
        await loadEveryTab(page, runtime.url, 1);
        return loadEveryTab(page, runtime.url, loads);
      });
      const replayedRows = Object.fromEntries(
        [...replayed].map(([name, results]) => {
          const slowest = slowestOf(results);
          const renders = results.map((r) => r.slowestRenderMs);
          return [
            name,
            {
              'slowest render p50 ms': round(percentile(renders, 0.5)),
              'slowest render max ms': round(slowest.slowestRenderMs),
              [`≤ ${BUDGET.chartRenderMs} ms`]: verdict(slowest.slowestRenderMs <= BUDGET.chartRenderMs),
              'slowest chart': slowest.slowestChart,
              'first chart p50 ms': round(
                percentile(
                  results.map((r) => r.firstChartMs),
                  0.5,
                ),
              ),
            },
          ];
        }),
      );
      console.log(
        `\nrenders with the API's answers replayed from memory (${loads} loads per row, after one live load per URL): ` +
          'the browser alone on the CPU while it draws; "slowest render p50" is the median over loads of each load\'s slowest render',
      );
      console.table(replayedRows);
      const tabsLoaded = chunks.filter((chunk) => fetched.has(chunk.file));
      console.log(
        `JavaScript the three tabs loaded (every chunk fetched over these loads): ${sum(tabsLoaded)} B gzip ` +
          `(${tabsLoaded.map((chunk) => chunk.file.replace(/-[\w-]{8}\.js$/, '')).join(', ')})`,
      );
      if (errors.length > 0)
        console.log(`page errors (${errors.length}):\n  ${[...new Set(errors)].join('\n  ')}`);
      const [after1] = loadavg();
      console.log(`load average at the end: ${round(after1 ?? 0, 2)} (1 min)`);
    } finally {
      await browser.close();
    }
  } finally {
    await runtime.stop();
  }
}
