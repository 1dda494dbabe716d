/**
 * The dashboard as a new user meets it: `npm start` with demo data, driven in
 * Debian's Chromium. One runtime and one browser for the whole file.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CostFigures } from '../../frontend/src/api-types';
import { formatCount, formatUsd } from '../../frontend/src/format';
import { demoIncidents, incidentDayStart } from '../../local/demo-seed';
import {
  BROWSER_ZONE,
  type Browser,
  getJson,
  launchBrowser,
  type Runtime,
  screenshot,
  startRuntime,
  waitForDemoData,
  watchConsole,
} from './harness';

let runtime: Runtime;
let browser: Browser;
let page: Page;
let consoleErrors: ReturnType<typeof watchConsole>;

async function open(search: string): Promise<void> {
  await page.goto(`${runtime.baseUrl}/${search}`);
}

async function waitForCharts(count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('.chart-box canvas').length >= n, count, {
    timeout: 30_000,
  });
}

/** Waits until no card shows a loading skeleton: every request of the page has answered. */
async function skeletonsGone(target: Page = page): Promise<void> {
  await target.waitForFunction(() => document.querySelectorAll('.skeleton').length === 0, null, {
    timeout: 30_000,
  });
}

/** The errors tab over 30 days, every card loaded. */
async function openErrorsTab(): Promise<void> {
  await open('?tab=errors&range=30d&tz=UTC');
  await page.getByRole('heading', { name: 'Top 10 error types' }).waitFor();
  await skeletonsGone();
}

/** Clicks the Executions chart near its right edge (yesterday, a full day of demo runs); the drill-down once its rows show. */
async function openYesterdaysRuns(filter = '') {
  await open(`?tab=overview&range=7d&tz=UTC${filter}`);
  await waitForCharts(5);
  const over = page.locator('.u-over').first();
  const box = await over.boundingBox();
  if (!box) throw new Error('no chart overlay');
  await over.click({ position: { x: box.width * 0.8, y: box.height / 2 } });
  const dialog = page.locator('dialog.drilldown');
  await dialog.waitFor();
  await dialog.locator('tbody tr').first().waitFor();
  return dialog;
}

async function kpi(label: string): Promise<string> {
  const value = page.locator(`[data-kpi="${label}"]`);
  await value.waitFor();
  return (await value.textContent()) ?? '';
}

/**
 * Per row of a table, the cells whose text takes more than one line or
 * overflows the cell, by their `data-label` (or column number).
 */
const wrappedColumns = (table: ReturnType<Page['locator']>) =>
  table.locator('tbody tr').evaluateAll((rows) =>
    rows.map((row) =>
      [...row.querySelectorAll('td')]
        .filter((cell) => {
          // A text node laid out on more than one line wraps (element boxes, such as the
          // status pill's padding, are left out: their tops differ from their text's).
          const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
          const range = document.createRange();
          for (let text = texts.nextNode(); text; text = texts.nextNode()) {
            range.selectNodeContents(text);
            const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
            if (lines.size > 1) return true;
          }
          return cell.scrollWidth > cell.clientWidth;
        })
        .map((cell) => cell.getAttribute('data-label') ?? String(cell.cellIndex)),
    ),
  );

/**
 * How far the page scrolls sideways, and the first visible elements that
 * stick out of the window (those inside a table's own scroller, the dialog or
 * screen-reader text aside).
 */
const sidewaysOverflow = () =>
  page.evaluate(() => {
    const root = document.scrollingElement as Element;
    const wide = [...document.querySelectorAll('body *')]
      .filter((element) => element.checkVisibility())
      .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
      .filter((element) => !element.closest('.table-scroll, .sr-only, .skip, dialog'))
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
    return { scroll: root.scrollWidth - root.clientWidth, wide };
  });

/** What the dashboard showed while the demo seed ran (null with an external runtime, seeded already). */
let seedBanner: { text: string; value: number; max: number } | null = null;

/** When the demo seed began: its incidents are placed relative to it (local/demo-seed.ts). */
let seedAnchor = Date.now();

beforeAll(async () => {
  seedAnchor = Date.now();
  runtime = await startRuntime();
  browser = await launchBrowser();
  page = browser.page;
  consoleErrors = watchConsole(page);
  if (!process.env.E2E_BASE_URL) {
    // The page stays open through the seed; the first test reads what it did.
    await open('?tab=overview&range=7d&tz=UTC');
    const banner = page.locator('[data-seed-banner]');
    await banner.waitFor({ timeout: 60_000 });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-seed-banner] progress')?.getAttribute('value')) > 0,
    );
    seedBanner = {
      text: (await banner.textContent()) ?? '',
      value: Number(await banner.locator('progress').getAttribute('value')),
      max: Number(await banner.locator('progress').getAttribute('max')),
    };
  }
  // Screenshots and counts need the whole seed, not its first slice.
  await runtime.seeded();
  await waitForDemoData(runtime.baseUrl);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

describe('dashboard', () => {
  it.skipIf(!!process.env.E2E_BASE_URL)(
    'shows the demo seed running, then drops the banner and reloads the figures by itself',
    async () => {
      expect(seedBanner?.text).toMatch(/Demo data is still loading: [\d,]+ of [\d,]+ runs sent \(\d+ %\)/);
      expect(seedBanner?.value).toBeGreaterThan(0);
      expect(seedBanner?.max).toBeGreaterThan(1000);
      // The same page, never reloaded by the test: the banner goes once the aggregates hold every run.
      await page.locator('[data-seed-banner]').waitFor({ state: 'detached', timeout: 120_000 });
      const today = new Date().toISOString().slice(0, 10);
      const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
      const final = await getJson<{ executions: number }>(
        runtime.baseUrl,
        `/api/summary?from=${weekAgo}&to=${today}&tz=UTC`,
      );
      await expect
        .poll(() => kpi('Executions'), { timeout: 30_000 })
        .toBe(final.executions.toLocaleString('en-US'));
      const health = await getJson<{ local: { seed: { done: boolean; runsSent: number } } }>(
        runtime.baseUrl,
        '/api/health',
      );
      expect(health.local.seed).toMatchObject({ done: true, runsSent: seedBanner?.max });
    },
  );

  it('renders every tab from demo data, light and dark, without console errors', async () => {
    const tabs = [
      { tab: 'overview', charts: 5, text: 'Cost and cost per run' },
      { tab: 'efficiency', charts: 2, text: 'Model comparison' },
      { tab: 'errors', charts: 1, text: 'Top 10 error types' },
    ];
    for (const theme of ['light', 'dark'] as const) {
      for (const { tab, charts, text } of tabs) {
        await open(`?tab=${tab}&range=30d&tz=UTC`);
        if ((await page.locator('html').getAttribute('data-theme')) !== theme) {
          await page.click('[data-theme-toggle]');
        }
        await waitForCharts(charts);
        await page.getByRole('heading', { name: text }).waitFor();
        // Tables and bar lists load alongside the charts; wait until no skeleton is left.
        await skeletonsGone();
        const body = (await page.textContent('body')) ?? '';
        expect(body).not.toMatch(/NaN|undefined|Infinity/);
        expect(await page.locator('[data-summary]').count()).toBeGreaterThanOrEqual(charts);
        const readme = ['overview-light', 'efficiency-light', 'errors-dark'].includes(`${tab}-${theme}`);
        await screenshot(page, `dashboard-${tab}-${theme}`, readme ? { readme: `${tab}-${theme}` } : {});
      }
    }
    expect(consoleErrors.errors).toEqual([]);
  });

  /**
   * What `on` asked the API for the view and when the answers came, in the
   * order Chromium saw them, until `stop`. /api/health is left out: the seed
   * banner polls it while the demo seed runs, whatever the view loads.
   */
  function recordApi(on: Page): { events: string[]; stop: () => void } {
    const events: string[] = [];
    const api = (url: string) => {
      const { pathname, search } = new URL(url);
      return pathname.startsWith('/api/') && pathname !== '/api/health' ? pathname + search : null;
    };
    const onRequest = (request: { url(): string }) => {
      const path = api(request.url());
      if (path) events.push(`request ${path}`);
    };
    const onResponse = (response: { url(): string }) => {
      const path = api(response.url());
      if (path) events.push(`answer ${path}`);
    };
    on.on('request', onRequest);
    on.on('response', onResponse);
    return {
      events,
      stop: () => {
        on.off('request', onRequest);
        on.off('response', onResponse);
      },
    };
  }

  /** The timeseries asked first and answered before anything else left; then the rest, each once. */
  function expectTimeseriesFirst(events: readonly string[], label: string) {
    const first = events[0] ?? '';
    expect(first, label).toMatch(/^request \/api\/timeseries\?from=[\d-]+&to=[\d-]+&tz=UTC$/);
    expect(events[1], label).toBe(first.replace('request', 'answer'));
    const requests = events.filter((event) => event.startsWith('request'));
    expect(requests.length, label).toBeGreaterThan(2);
    expect(new Set(requests).size, `${label}: ${requests.join(', ')}`).toBe(requests.length);
  }

  it("asks for the charts' timeseries first and alone, then the rest, each once", async () => {
    for (const tab of ['overview', 'efficiency', 'errors']) {
      const recording = recordApi(page);
      await open(`?tab=${tab}&range=30d&tz=UTC`);
      await waitForCharts(1);
      await skeletonsGone();
      await page.waitForLoadState('networkidle');
      recording.stop();

      expectTimeseriesFirst(recording.events, tab);
    }
  });

  it('asks for the timeseries first and alone again on every live refresh', async () => {
    // A browser of its own: its clock is Playwright's, fast-forwarded to the next refresh.
    const live = await launchBrowser();
    try {
      await live.context.clock.install();
      await live.page.goto(`${runtime.baseUrl}/?tab=overview&range=30d&tz=UTC&live=1`);
      await skeletonsGone(live.page);
      await live.page.waitForLoadState('networkidle');
      const recording = recordApi(live.page);

      // The dashboard refreshes every 30 s in live mode (frontend/src/app.tsx).
      await live.page.clock.runFor(30_000);
      await expect
        .poll(() => recording.events.filter((event) => event.startsWith('answer')).length, {
          timeout: 30_000,
        })
        .toBeGreaterThan(3);
      await live.page.waitForLoadState('networkidle');
      recording.stop();

      expectTimeseriesFirst(recording.events, 'live refresh');
    } finally {
      await live.close();
    }
  });

  it('keeps the theme choice across a reload', async () => {
    await open('?tab=overview');
    const before = await page.locator('html').getAttribute('data-theme');
    await page.click('[data-theme-toggle]');
    const after = await page.locator('html').getAttribute('data-theme');
    expect(after).not.toBe(before);
    await page.reload();
    expect(await page.locator('html').getAttribute('data-theme')).toBe(after);
    await page.click('[data-theme-toggle]');
  });

  it('changes the URL and the numbers with the filters, keeps them on reload, and goes back', async () => {
    await open('?tab=overview&range=7d&tz=UTC');
    await waitForCharts(5);
    const weekRuns = await kpi('Executions');

    await page.getByRole('button', { name: '30 d', exact: true }).click();
    await page.waitForURL(/range=30d/);
    await page.waitForFunction(
      (old) => document.querySelector('[data-kpi="Executions"]')?.textContent !== old,
      weekRuns,
    );
    const monthRuns = await kpi('Executions');
    expect(Number(monthRuns.replace(/,/g, ''))).toBeGreaterThan(Number(weekRuns.replace(/,/g, '')));

    await page.getByLabel('Status').selectOption('success');
    await page.waitForURL(/status=success/);
    await page.getByText('the cost of failed runs is hidden').waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-kpi="Success rate"]')?.textContent === '100 %',
    );

    await page.locator('.model-select summary').click();
    const firstModel = page.locator('.model-select input[type="checkbox"]').first();
    const modelName = ((await firstModel.locator('xpath=..').textContent()) ?? '').trim();
    await firstModel.check();
    await page.waitForURL(new RegExp(`model=${encodeURIComponent(modelName)}`));
    await page.getByText(`Filtered to ${modelName}`).waitFor();

    await page.getByRole('tab', { name: 'Errors' }).click();
    await page.waitForURL(/tab=errors/);
    const url = page.url();
    await page.reload();
    expect(page.url()).toBe(url);
    await expect.poll(() => page.getByLabel('Status').inputValue()).toBe('success');
    expect(await page.getByRole('button', { name: '30 d', exact: true }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    expect(await page.getByRole('tab', { name: 'Errors' }).getAttribute('aria-selected')).toBe('true');

    await page.goBack();
    await page.waitForURL(/tab=overview/);
    await page.goBack();
    await page.waitForURL((u) => !u.search.includes('model='));
  });

  it("switches tabs with the keyboard, and to UTC or the browser's zone with one click", async () => {
    await open('?tab=overview&range=7d&tz=Europe/Paris');
    await waitForCharts(5);
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/tab=efficiency/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Efficiency');
    await page.getByRole('button', { name: 'UTC', exact: true }).click();
    await page.waitForURL(/tz=UTC/);
    expect(await page.locator('[data-zone]').textContent()).toBe('UTC');
    const browserZone = page.getByRole('button', { name: `Browser (${BROWSER_ZONE.replace('_', ' ')})` });
    await browserZone.click();
    await page.waitForURL(new RegExp(`tz=${encodeURIComponent(BROWSER_ZONE)}`));
    expect(await browserZone.getAttribute('aria-pressed')).toBe('true');
  });

  it('picks any IANA zone from a searchable list; the URL and the buckets follow', async () => {
    await open('?tab=overview&range=7d&tz=UTC');
    await waitForCharts(5);
    await page.getByRole('button', { name: 'Other zone…' }).click();
    const search = page.getByRole('combobox', { name: 'Search time zones' });
    await search.waitFor();
    // Focus moves in an effect that runs after the picker's first paint, so it may trail its appearance.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('role')))
      .toBe('combobox');
    await search.fill('kolk');
    const options = page.getByRole('listbox', { name: 'Time zones' }).getByRole('option');
    await expect.poll(() => options.allTextContents()).toEqual(['Asia/KolkataUTC+05:30']);
    // The range's own timeseries (7 days), not the week-over-week card's (20 days).
    const timeseries = page.waitForResponse((response) => {
      const url = new URL(response.url());
      const from = url.searchParams.get('from');
      const to = url.searchParams.get('to');
      return (
        url.pathname === '/api/timeseries' &&
        url.searchParams.get('tz') === 'Asia/Kolkata' &&
        from !== null &&
        to !== null &&
        Date.parse(to) - Date.parse(from) === 6 * 86_400_000
      );
    });
    await search.press('Enter');
    await page.waitForURL(/tz=Asia%2FKolkata/);
    expect(await page.locator('[data-zone]').textContent()).toBe('Asia/Kolkata');
    // The picker closes; the charts' buckets are now Kolkata days.
    await search.waitFor({ state: 'detached' });
    const body = (await (await timeseries).json()) as { buckets: { start: string }[] };
    expect(body.buckets).toHaveLength(7);
    for (const bucket of body.buckets) expect(bucket.start).toMatch(/T00:00:00\+05:30$/);
    await waitForCharts(5);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the data of "Executions" as CSV' }).click(),
    ]);
    const csv = await readFile((await download.path()) as string, 'utf8');
    const firstBucket = csv.trim().split('\r\n')[1] ?? '';
    expect(firstBucket).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\+05:30,/);

    // Back and forward through the history carries the zone.
    await page.goBack();
    await page.waitForURL(/tz=UTC/);
    expect(await page.locator('[data-zone]').textContent()).toBe('UTC');
  });

  it("flags the demo's incidents on the 30-day view: the bad deploy's success rate, the model switch's cost", async () => {
    if (process.env.E2E_BASE_URL) return; // an external runtime's seed has its own anchor
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const to = day(Date.now());
    const from = day(Date.now() - 29 * 86_400_000);
    // The seed sends newest first: wait until the stream has counted its oldest runs too.
    const { local } = await getJson<{ local: { seed: { runsSent: number } } }>(
      runtime.baseUrl,
      '/api/health',
    );
    const allDays = `from=${day(Date.now() - 31 * 86_400_000)}&to=${to}&tz=UTC`;
    await expect
      .poll(
        async () =>
          (await getJson<{ executions: number }>(runtime.baseUrl, `/api/summary?${allDays}`)).executions,
        {
          timeout: 120_000,
          interval: 500,
        },
      )
      .toBeGreaterThanOrEqual(local.seed.runsSent);
    const body = await getJson<{ buckets: { start: string; anomalies: string[] }[] }>(
      runtime.baseUrl,
      `/api/timeseries?from=${from}&to=${to}&granularity=day&tz=UTC`,
    );
    const flaggedDays = (figure: string) =>
      body.buckets
        .filter((bucket) => bucket.anomalies.includes(figure))
        .map((bucket) => bucket.start.slice(0, 10));
    const deploy = demoIncidents.find((incident) => incident.errorType === 'ToolExecutionError')!;
    const switched = demoIncidents.find((incident) => incident.shareFactor !== undefined)!;
    expect(flaggedDays('successRate')).toContain(day(incidentDayStart(deploy, seedAnchor)));
    expect(flaggedDays('costUsd')).toContain(day(incidentDayStart(switched, seedAnchor)));
  });

  it('marks today as "so far", never flags it, and shows p50 and p99', async () => {
    // Every figure of yesterday and of today is flagged in the API's answer, as a partial day's low
    // count would be: yesterday's flags must show (so the check below can see a flag at all), today's
    // must not, on any chart, in the key or in the text summaries.
    const flagged = ['costUsd', 'durationMs.avg', 'executions', 'successRate'];
    await page.route('**/api/timeseries?*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { buckets: { anomalies: string[]; baselines: object }[] };
      for (const flaggedBucket of body.buckets.slice(-2)) {
        flaggedBucket.anomalies = flagged;
        flaggedBucket.baselines = { costUsd: 0.01, 'durationMs.avg': 1, executions: 1, successRate: 0.01 };
      }
      await route.fulfill({ response, json: body });
    });
    try {
      await open('?tab=overview&range=7d&tz=UTC');
      await waitForCharts(5);
      // Seven day buckets, today's the last: every time chart marks it as partial.
      const partial = await page
        .locator('.chart-box[data-partial]')
        .evaluateAll((boxes) => boxes.map((box) => box.getAttribute('data-partial')));
      expect(partial.length).toBeGreaterThanOrEqual(5);
      expect(new Set(partial)).toEqual(new Set(['6']));
      // Today and yesterday as the keyboard reads them (End: the last bucket, then one back).
      const firstChart = page.locator('.chart-box[data-partial]').first();
      const announcement = firstChart.locator('xpath=following-sibling::p[@data-announce][1]');
      await firstChart.focus();
      await page.keyboard.press('End');
      await expect.poll(() => announcement.textContent()).toMatch(/^[^:]+ \(so far\): .*Bucket 7 of 7\.$/);
      const today = /^([^:]+) \(so far\)/.exec((await announcement.textContent()) ?? '')?.[1] ?? '';
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => announcement.textContent()).toMatch(/Bucket 6 of 7\.$/);
      const yesterday = /^([^:]+):/.exec((await announcement.textContent()) ?? '')?.[1] ?? '';
      expect(today).not.toBe('');
      expect(yesterday).not.toBe('');

      const keys = await page.locator('[data-anomaly-key]').allTextContents();
      const summaries = await page.locator('[data-summary]').allTextContents();
      const anomalySentences = summaries.flatMap((text) => text.match(/Anomalies: .*?\.(?= |$)/g) ?? []);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      // Today's label, bare or marked "(so far)", is named by no flag.
      const namesToday = new RegExp(`${today}(:| \\(so far\\))`);
      for (const key of keys) {
        expect(key).toContain(`${yesterday}: `);
        expect(key).not.toMatch(namesToday);
      }
      expect(anomalySentences.length).toBeGreaterThanOrEqual(3);
      for (const sentence of anomalySentences) expect(sentence).not.toMatch(namesToday);
      expect(summaries.join(' ')).toMatch(/The median \(p50\)/);
      expect(summaries.join(' ')).toMatch(/the p99/);
      // The KPIs' summary is asked for after the charts' timeseries has answered.
      await expect
        .poll(() => page.locator('[data-kpi="p95 duration"]').locator('..').textContent())
        .toMatch(/p50 .* p99 /);
    } finally {
      await page.unroute('**/api/timeseries?*');
    }
  });

  it('fits the drill-down columns to their content: only the error text wraps, no empty Error column', async () => {
    // A day with failures: every column but Error on one line, Error as wide as what is left.
    let dialog = await openYesterdaysRuns();
    expect(await dialog.locator('th', { hasText: 'Error' }).count()).toBe(1);
    for (const columns of await wrappedColumns(dialog))
      expect(columns.filter((label) => label !== 'Error')).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // Successes only: no Error column at all, nothing wraps.
    dialog = await openYesterdaysRuns('&status=success');
    expect(await dialog.locator('th', { hasText: 'Error' }).count()).toBe(0);
    for (const columns of await wrappedColumns(dialog)) expect(columns).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('opens a drill-down on a bucket click, pages through its runs and downloads them as CSV', async () => {
    const dialog = await openYesterdaysRuns();
    const firstPage = await dialog.locator('tbody tr').allTextContents();
    expect(firstPage.length).toBe(20);

    await dialog.getByRole('button', { name: 'Next' }).click();
    await dialog.getByText('Page 2', { exact: true }).waitFor();
    // Page 2 has arrived when a row is shown again and it is not page 1's first row
    // (in between, the table is briefly empty while the next page loads).
    await page.waitForFunction((first) => {
      const row = document.querySelector('dialog.drilldown tbody tr');
      return row !== null && row.textContent !== first;
    }, firstPage[0]);
    expect(await dialog.locator('tbody tr').count()).toBeGreaterThan(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      dialog.getByRole('button', { name: /Download CSV/ }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^runs-.*\.csv$/);
    const csv = await readFile((await download.path()) as string, 'utf8');
    expect(csv.split('\n').length).toBeGreaterThan(21);
    expect(csv).toMatch(/executionId/);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('works by keyboard: Tab reaches a chart, the arrows say each bucket, Enter opens its runs', async () => {
    await open('?tab=overview&range=7d&tz=UTC');
    await waitForCharts(5);
    const card = page.locator('section.card', { has: page.getByRole('heading', { name: 'Executions' }) });
    // Idle, the legend reads the last bucket's values rather than "—".
    expect(await card.locator('.u-legend').textContent()).not.toMatch(/—/);
    await card.getByRole('button', { name: /as CSV/ }).focus();
    await page.keyboard.press('Tab');
    const chart = card.locator('.chart-box');
    expect(await chart.evaluate((box) => box === document.activeElement)).toBe(true);

    const announced = card.locator('[data-announce]');
    expect(await announced.getAttribute('aria-live')).toBe('polite');
    await page.keyboard.press('ArrowLeft');
    await expect
      .poll(() => announced.textContent())
      .toMatch(/ \(so far\): Failures [\d,]+, (?:Anomaly [^,]*, )?Successes [\d,]+\. Bucket 7 of 7\.$/);
    await page.keyboard.press('ArrowLeft');
    await expect
      .poll(() => announced.textContent())
      .toMatch(/^(\w{3} \d{1,2}): Failures [\d,]+, (?:Anomaly [^,]*, )?Successes [\d,]+\. Bucket 6 of 7\.$/);
    const day = /^(\w{3} \d{1,2}):/.exec((await announced.textContent()) ?? '')?.[1];
    expect(await card.locator('.u-legend').textContent()).toContain(day);

    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog.drilldown');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').first().textContent()).toBe(`Runs of ${day}`);
    await dialog.locator('tbody tr').first().waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus comes back to the chart, on the same bucket (restored as the dialog unmounts).
    await expect.poll(() => chart.evaluate((box) => box === document.activeElement)).toBe(true);
  });

  it('shows p50 and p99 on screen: the duration legend, the KPI and the model table', async () => {
    await open('?tab=overview&range=7d&tz=UTC');
    await waitForCharts(5);
    const duration = page.locator('section.card', { has: page.getByRole('heading', { name: 'Duration' }) });
    const legend = duration.locator('.u-legend');
    expect(await legend.isVisible()).toBe(true);
    const legendText = (await legend.textContent()) ?? '';
    for (const series of ['Average', 'p50', 'p95', 'p99']) expect(legendText).toContain(series);
    expect(legendText).not.toMatch(/—/);
    const note = page.locator('.kpi-note', { hasText: /^p50 .* · p99 / });
    expect(await note.isVisible()).toBe(true);
    await open('?tab=efficiency&range=7d&tz=UTC');
    for (const name of ['p50 duration', 'p99 duration']) {
      const header = page.getByRole('columnheader', { name });
      await header.waitFor();
      expect(await header.isVisible()).toBe(true);
    }
  });

  it('shows the estimated part of the cost apart: the KPI, the warning and the model table', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const weekAgo = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
    const { cost } = await getJson<{ cost: CostFigures }>(
      runtime.baseUrl,
      `/api/summary?from=${weekAgo}&to=${today}&tz=UTC`,
    );
    // The demo leaves some costs out, on models with a price and on models without.
    expect(cost.runsWithEstimatedCost).toBeGreaterThan(0);
    expect(cost.runsWithUnknownCost).toBeGreaterThan(0);
    await open('?tab=overview&range=7d&tz=UTC');
    const card = page.locator('[data-kpi="Total cost"]').locator('..');
    await expect.poll(() => card.textContent()).toContain(`${formatUsd(cost.totalUsd)}`);
    expect(await card.locator('.kpi-note').textContent()).toBe(
      `incl. ${formatUsd(cost.estimatedUsd)} estimated`,
    );
    const warning = page.locator('ul.warnings li', { hasText: 'estimated from model list prices' });
    await warning.waitFor();
    expect(await warning.textContent()).toBe(
      `${formatUsd(cost.estimatedUsd)} of the ${formatUsd(cost.totalUsd)} cost is estimated from model list prices ` +
        `for ${formatCount(cost.runsWithEstimatedCost)} runs that reported no cost; ` +
        `${formatCount(cost.runsWithUnknownCost)} runs have no cost at all (no price for the model) and count as $0, so costs are understated.`,
    );
    await open('?tab=efficiency&range=7d&tz=UTC');
    const priced = page.getByRole('row', { name: /^claude-sonnet-4 / });
    await priced.waitFor();
    expect(await priced.textContent()).toMatch(/\$[\d,.]+ incl\. \$[\d,.]+ estimated/);
    // gemini-2.5-pro has no price in config/model-prices.json: nothing of its cost is estimated.
    expect(await page.getByRole('row', { name: /^gemini-2\.5-pro / }).textContent()).not.toContain(
      'estimated',
    );
  });

  it('aligns the bars of each bar list on one track, whatever the label lengths', async () => {
    await openErrorsTab();
    const lists = await page.locator('ul.bar-list').evaluateAll((elements) =>
      elements.map((list) => ({
        label: list.getAttribute('aria-label'),
        tracks: [...list.querySelectorAll('.bar-track')].map((track) => {
          const box = track.getBoundingClientRect();
          return { left: Math.round(box.left), width: Math.round(box.width) };
        }),
        labels: [...list.querySelectorAll('.bar-label')].map((label) => label.textContent?.length ?? 0),
      })),
    );
    // The Top 10 error types and the failures by model, each with several rows of different label lengths.
    expect(lists.length).toBeGreaterThanOrEqual(2);
    for (const list of lists) {
      expect(list.tracks.length, list.label ?? '').toBeGreaterThan(1);
      expect(new Set(list.labels).size, list.label ?? '').toBeGreaterThan(1);
      expect(new Set(list.tracks.map((track) => JSON.stringify(track))).size, list.label ?? '').toBe(1);
      expect(list.tracks[0]!.width, list.label ?? '').toBeGreaterThan(40);
    }
  });

  it('keeps the Top 10 card compact: beside the failures by model, with no blank half', async () => {
    await openErrorsTab();
    const cards = await page.locator('section.card').evaluateAll((sections) =>
      sections.map((section) => {
        const box = section.getBoundingClientRect();
        const style = getComputedStyle(section);
        // The lowest visible content of the card: what is below it is blank.
        const contentBottom = Math.max(
          ...[...section.children]
            .filter((child) => child.checkVisibility() && !child.classList.contains('sr-only'))
            .map((child) => child.getBoundingClientRect().bottom),
        );
        return {
          title: section.querySelector('h2')?.textContent ?? '',
          top: Math.round(box.top),
          width: Math.round(box.width),
          height: Math.round(box.height),
          blank: Math.round(box.bottom - Number.parseFloat(style.paddingBottom) - contentBottom),
          rows: section.querySelectorAll('.bar-list li').length,
        };
      }),
    );
    const top10 = cards.find((card) => card.title === 'Top 10 error types');
    const byModel = cards.find((card) => card.title === 'Failures by model');
    const trend = cards[0];
    if (!top10 || !byModel || !trend) throw new Error(`cards: ${JSON.stringify(cards)}`);
    // One row per listed type, and "Other" when it is not empty.
    const today = new Date().toISOString().slice(0, 10);
    const monthAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    const listed = await getJson<{ errors: unknown[]; other: { count: number } }>(
      runtime.baseUrl,
      `/api/errors?from=${monthAgo}&to=${today}&tz=UTC&limit=10`,
    );
    expect(top10.rows).toBe(listed.errors.length + (listed.other.count > 0 ? 1 : 0));
    expect(top10.rows).toBeGreaterThan(2);
    // Side by side, each half the row, not a wide card of its own.
    expect(top10.top).toBe(byModel.top);
    expect(top10.width).toBeLessThan(trend.width * 0.6);
    expect(byModel.width).toBe(top10.width);
    // Neither card is left half empty by the other's height.
    for (const card of [top10, byModel]) expect(card.blank, card.title).toBeLessThan(card.height / 4);
  });

  it('never scrolls sideways at 390 px, on any tab nor with the drill-down open', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = sidewaysOverflow;
    try {
      for (const [tab, charts] of [
        ['overview', 5],
        ['efficiency', 2],
        ['errors', 1],
      ] as const) {
        await open(`?tab=${tab}&range=7d&tz=UTC`);
        await waitForCharts(charts);
        await skeletonsGone();
        expect({ tab, ...(await overflow()) }).toEqual({ tab, scroll: 0, wide: [] });
        if (tab === 'overview')
          await screenshot(page, 'dashboard-overview-390', { readme: 'overview-390', fullPage: false });
        if (tab === 'errors') {
          // The failing runs are cards here: nothing in them scrolls either.
          const table = page.locator('table.runs');
          expect(await table.evaluate((t) => t.scrollWidth <= (t.parentElement as Element).clientWidth)).toBe(
            true,
          );
        }
      }
      const dialog = await openYesterdaysRuns();
      expect(await overflow()).toMatchObject({ scroll: 0 });
      const inDialog = await dialog.evaluate((d) => ({
        dialog: d.scrollWidth - d.clientWidth,
        body:
          (d.querySelector('.dialog-body') as Element).scrollWidth -
          (d.querySelector('.dialog-body') as Element).clientWidth,
        right: d.getBoundingClientRect().right <= window.innerWidth,
      }));
      expect(inDialog).toEqual({ dialog: 0, body: 0, right: true });
      await screenshot(page, 'dashboard-390-drilldown');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('exports the data of a chart as CSV', async () => {
    await open('?tab=overview&range=7d&tz=UTC');
    await waitForCharts(5);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the data of "Executions" as CSV' }).click(),
    ]);
    const csv = await readFile((await download.path()) as string, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('bucket_start,executions,successes,failures,complete');
    expect(lines.length).toBe(8);
    // Today is the bucket in progress: shaded "so far" on the chart, complete=false in the file.
    expect(lines.slice(1).map((line) => line.split(',').at(-1))).toEqual([...Array(6).fill('true'), 'false']);
  });

  it('shows the empty state with a suggestion', async () => {
    await open('?tab=overview&range=custom&from=2020-01-01&to=2020-01-07&tz=UTC');
    await page.getByRole('heading', { name: 'No data for these filters' }).waitFor();
    await page.getByText('Try a longer range').waitFor();
  });

  it('shows an API error with a retry that recovers', async () => {
    let failing = true;
    await page.route('**/api/summary?*', (route) =>
      failing
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            body: '{"error":"unavailable","message":"try later"}',
          })
        : route.fallback(),
    );
    await open('?tab=overview&range=7d&tz=UTC');
    const retry = page.getByRole('button', { name: 'Retry' }).first();
    await retry.waitFor();
    failing = false;
    await retry.click();
    await kpi('Executions');
    await page.unroute('**/api/summary?*');
    consoleErrors.clear();
  });

  it('shows the alarm banner once the last hour falls below 85 %', async () => {
    const now = Date.now();
    const executions = Array.from({ length: 100 }, (_, index) => ({
      executionId: `e2e-alarm-${now}-${index}`,
      startTime: new Date(now - 10 * 60_000 + index * 1000).toISOString(),
      endTime: new Date(now - 5 * 60_000 + index * 1000).toISOString(),
      status: 'failure',
      model: 'e2e-model',
      inputTokens: 100,
      outputTokens: 10,
      errorType: 'TestFailure',
      errorMessage: 'e2e: forced failure to trip the alarm',
    }));
    const response = await fetch(`${runtime.baseUrl}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ executions }),
    });
    expect(response.status).toBe(202);
    await expect
      .poll(async () => (await getJson<{ state: string }>(runtime.baseUrl, '/api/alarm')).state, {
        timeout: 30_000,
      })
      .toBe('ALARM');

    await open('?tab=overview&range=24h&tz=UTC');
    const banner = page.locator('.alarm[role="alert"]');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/below the 85 % paging threshold/);
    await waitForCharts(5);
    await screenshot(page, 'dashboard-alarm');
  });

  // Last in the file: the models it adds would change what the tests above count.
  it('keeps 100-character labels in their place: no sideways scroll, figures and names on one line', async () => {
    const now = Date.now();
    const longModel = `claude-${'x'.repeat(93)}`;
    const hostileModels = [longModel, '😀'.repeat(50), `نموذج-${'ب'.repeat(60)}`];
    const executions = Array.from({ length: 30 }, (_, index) => ({
      executionId: `e2e-label-${now}-${index}`,
      // The newest runs of the file (the alarm's are 5–10 minutes old): its failures head the failing runs.
      startTime: new Date(now - 4 * 60_000 + index * 2_000).toISOString(),
      endTime: new Date(now - 4 * 60_000 + index * 2_000 + 95_000).toISOString(),
      status: index % 3 === 0 ? 'failure' : 'success',
      model: hostileModels[index % 3],
      inputTokens: 1000,
      outputTokens: 100,
      costUsd: 0.5,
      ...(index % 3 === 0
        ? { errorType: `HTTPError/${'y'.repeat(90)}`, errorMessage: 'z'.repeat(2000) }
        : {}),
    }));
    const response = await fetch(`${runtime.baseUrl}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ executions }),
    });
    expect(response.status).toBe(202);
    // Whole UTC hours around the runs, whatever the time of day.
    const hour = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00:00Z`;
    const around = `from=${hour(now - 3_600_000)}&to=${hour(now + 3_600_000)}`;
    await expect
      .poll(
        async () =>
          (
            await getJson<{ executions: number }>(
              runtime.baseUrl,
              `/api/summary?${around}&tz=UTC&model=${encodeURIComponent(longModel)}`,
            )
          ).executions,
        { timeout: 30_000 },
      )
      .toBe(10);

    try {
      for (const width of [390, 1440]) {
        await page.setViewportSize({ width, height: 900 });
        for (const filter of ['', `&model=${encodeURIComponent(longModel)}`])
          for (const tab of ['overview', 'efficiency', 'errors']) {
            await open(`?tab=${tab}&range=24h&tz=UTC${filter}`);
            await page.locator('.chart-box canvas').first().waitFor();
            await skeletonsGone();
            expect({ width, tab, filter, ...(await sidewaysOverflow()) }).toEqual({
              width,
              tab,
              filter,
              scroll: 0,
              wide: [],
            });
          }

        // The model list: within the window, each name broken onto lines of its own width.
        await open('?tab=efficiency&range=24h&tz=UTC');
        await skeletonsGone();
        await page.getByText('Models: all').click();
        const list = page.locator('.model-select fieldset');
        await list.getByText(longModel).waitFor();
        expect(
          await list.evaluate((fieldset) => ({
            inWindow: fieldset.getBoundingClientRect().right <= window.innerWidth,
            clipped: [...fieldset.querySelectorAll('label')].filter(
              (label) => label.scrollWidth > label.clientWidth,
            ).length,
          })),
        ).toEqual({ inWindow: true, clipped: 0 });
        await page.getByText('Models: all').click();

        // The model table: the long names wrap; no figure does.
        for (const columns of await wrappedColumns(page.locator('table.models'))) expect(columns).toEqual([]);

        // The failing runs: a long model name wraps in its own column; the others stay on one
        // line, and the error text keeps room to be read.
        await open('?tab=errors&range=24h&tz=UTC');
        await skeletonsGone();
        const runs = page.locator('table.runs');
        await runs.locator('tbody tr').first().waitFor();
        if (width === 1440) {
          const rows = await runs.locator('tbody tr').evaluateAll((trs) =>
            trs.map((tr) => ({
              model: tr.querySelector('[data-label="Model"]')?.textContent ?? '',
              errorWidth: (tr.querySelector('.error-cell') as HTMLElement).getBoundingClientRect().width,
            })),
          );
          expect(rows.some((row) => row.model === longModel)).toBe(true);
          for (const row of rows) expect(row.errorWidth, row.model).toBeGreaterThan(250);
          const wrapped = await wrappedColumns(runs);
          for (const [index, columns] of wrapped.entries()) {
            const model = rows[index]?.model ?? '';
            expect(
              columns.filter((label) => label !== 'Error' && !(label === 'Model' && model.length > 40)),
            ).toEqual([]);
          }
        }
      }
      await screenshot(page, 'dashboard-long-labels');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('lists the 10 busiest models in a bar list and 20 in the table, with a line on the rest', async () => {
    const now = Date.now();
    const executions = Array.from({ length: 24 }, (_, index) => ({
      executionId: `e2e-many-${now}-${index}`,
      startTime: new Date(now - 2 * 3_600_000 + index * 60_000).toISOString(),
      endTime: new Date(now - 2 * 3_600_000 + index * 60_000 + 30_000).toISOString(),
      status: index % 2 === 0 ? 'failure' : 'success',
      model: `e2e-many-${String(index).padStart(2, '0')}`,
      inputTokens: 100,
      outputTokens: 10,
    }));
    const response = await fetch(`${runtime.baseUrl}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ executions }),
    });
    expect(response.status).toBe(202);
    const now24h = new Date(now);
    const from = new Date(now24h.getTime() - 86_400_000).toISOString().slice(0, 13);
    const to = new Date(now24h.getTime() + 3_600_000).toISOString().slice(0, 13);
    const range = `from=${from}:00:00Z&to=${to}:00:00Z&tz=UTC`;
    await expect
      .poll(
        async () =>
          (
            await getJson<{ models: { model: string }[] }>(runtime.baseUrl, `/api/models?${range}`)
          ).models.filter(({ model }) => model.startsWith('e2e-many-')).length,
        { timeout: 30_000 },
      )
      .toBe(24);

    // What the page itself was answered: the bars follow its order.
    const modelsAnswer = page.waitForResponse((answer) => answer.url().includes('/api/models?'));
    await open('?tab=efficiency&range=24h&tz=UTC');
    const { models } = (await (await modelsAnswer).json()) as {
      models: { model: string; executions: number }[];
    };
    await skeletonsGone();
    const bars = page.locator('[aria-label="Cache hit rate by model"]');
    expect(await bars.locator('.bar-label').allTextContents()).toEqual(
      models.slice(0, 10).map((m) => m.model),
    );
    const runsLeft = models.slice(10).reduce((sum, m) => sum + m.executions, 0);
    expect(await bars.locator('.bar-rest').textContent()).toBe(
      `${formatCount(models.length - 10)} more models, with ${formatCount(runsLeft)} runs: the model comparison lists every one.`,
    );
    const table = page.locator('table.models tbody tr');
    expect(await table.count()).toBe(20);
    await page.getByRole('button', { name: `Show all ${models.length} models` }).click();
    expect(await table.count()).toBe(models.length);
    await page.getByRole('button', { name: 'Show the first 20' }).click();
    expect(await table.count()).toBe(20);

    // The model list has a filter past 12 models; a selected model stays listed whatever it says.
    await page.getByText('Models: all').click();
    const list = page.locator('.model-select fieldset');
    const listed = async () =>
      (await list.locator('label').allTextContents()).map((text) => text.trim()).sort();
    const named = (...indexes: number[]) =>
      indexes.map((index) => `e2e-many-${String(index).padStart(2, '0')}`);
    const filter = list.getByRole('searchbox', { name: `Filter ${models.length} models` });
    await filter.fill('MANY-0');
    expect(await listed()).toEqual(named(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    await list.getByRole('checkbox', { name: 'e2e-many-05' }).check();
    await page.waitForURL(/model=e2e-many-05/);
    await filter.fill('many-1');
    expect(await listed()).toEqual(named(5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19));

    await open('?tab=errors&range=24h&tz=UTC');
    await skeletonsGone();
    const byModel = page.locator('[aria-label="Failures by model"]');
    expect(await byModel.locator('.bar-label').count()).toBe(10);
    expect(await byModel.locator('.bar-rest').textContent()).toMatch(
      /^\d+ more models, with [\d,]+ failures: the CSV lists every one\.$/,
    );
  });
});
