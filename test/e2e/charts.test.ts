/**
 * The charts on data the test knows, in Debian's Chromium: a runtime without
 * the demo seed, fed 29 days of runs with one cost spike and a slower last
 * week, so the anomaly, the week-over-week sentence and the scatter's r and n
 * have known answers.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../functions/domain/local-time';
import { type Browser, getJson, launchBrowser, type Runtime, startRuntime, watchConsole } from './harness';

const DAYS = 29;
const RUNS_PER_DAY = 4;
const SPIKE_DAYS_AGO = 3;

let runtime: Runtime;
let browser: Browser;
let page: Page;
let consoleErrors: ReturnType<typeof watchConsole>;
const today = new Date().toISOString().slice(0, 10);

/** Runs of day `today - daysAgo`: 100 s each until a week ago, 120 s since; $0.10 each but on the spike day. */
function runsOf(daysAgo: number): Record<string, unknown>[] {
  const day = addDays(today, -daysAgo);
  return Array.from({ length: RUNS_PER_DAY }, (_, index) => {
    const start = Date.parse(`${day}T10:00:00Z`) + index * 600_000;
    const seconds = daysAgo <= 6 ? 120 : 100;
    return {
      executionId: `known-${day}-${index}`,
      startTime: new Date(start).toISOString(),
      endTime: new Date(start + seconds * 1000).toISOString(),
      status: 'success',
      model: 'claude-sonnet-4',
      inputTokens: 1000,
      outputTokens: 200,
      cacheReadTokens: 500,
      cacheWriteTokens: 0,
      costUsd: daysAgo === SPIKE_DAYS_AGO ? 1 : 0.1,
      llmCalls: 4 + (daysAgo % 5),
      toolCalls: 3,
      filesModified: 1,
    };
  });
}

async function post(runs: Record<string, unknown>[]): Promise<void> {
  const response = await fetch(`${runtime.baseUrl}/api/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ executions: runs }),
  });
  if (response.status !== 202) throw new Error(`POST: ${response.status} ${await response.text()}`);
}

async function waitForCharts(count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('.chart-box canvas').length >= n, count, {
    timeout: 30_000,
  });
}

/** The card (section) whose heading is `title`. */
const card = (title: string) =>
  page.locator('section.card').filter({ has: page.getByRole('heading', { name: title, exact: true }) });

beforeAll(async () => {
  runtime = await startRuntime({ demo: false });
  const runs = Array.from({ length: DAYS }, (_, index) => runsOf(index + 1)).flat();
  for (let i = 0; i < runs.length; i += 100) await post(runs.slice(i, i + 100));
  const query = `/api/summary?tz=UTC&from=${addDays(today, -DAYS)}&to=${today}`;
  const deadline = Date.now() + 120_000;
  while ((await getJson<{ executions: number }>(runtime.baseUrl, query)).executions < runs.length) {
    if (Date.now() > deadline) throw new Error('the known runs were not aggregated');
    await new Promise((done) => setTimeout(done, 500));
  }
  browser = await launchBrowser();
  page = browser.page;
  consoleErrors = watchConsole(page);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

describe('charts on known data', () => {
  it('marks the cost spike on the cost series, with its value and baseline under the cursor', async () => {
    await page.goto(`${runtime.baseUrl}/?tab=overview&range=30d&tz=UTC`);
    await waitForCharts(6);
    const cost = card('Cost and cost per run');
    const key = cost.locator('[data-anomaly-key]');
    await key.waitFor();
    const spikeLabel = new Date(`${addDays(today, -SPIKE_DAYS_AGO)}T00:00:00Z`).toLocaleDateString('en-US', {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
    expect(await key.textContent()).toContain(`${spikeLabel}: cost $4.00, baseline $0.400`);

    // Hover the spike's bucket: 30 day buckets, padded by half a bucket each side.
    // Each poll points at the bucket anew, in case the chart was drawn again.
    const over = cost.locator('.u-over');
    const index = 29 - SPIKE_DAYS_AGO;
    const anomalyRow = cost.locator('.u-legend .u-series').filter({ hasText: 'Anomaly' });
    await expect
      .poll(async () => {
        // hover() scrolls the chart into view first: it sits below the fold.
        const box = await over.boundingBox();
        if (!box) throw new Error('no cost chart');
        await over.hover({ position: { x: (box.width * (index + 0.5)) / 30, y: box.height / 2 } });
        return anomalyRow.textContent();
      })
      .toContain('cost $4.00, baseline $0.400');
    expect(await cost.locator('.u-legend').textContent()).not.toContain('Anomaly: —');

    // The failure trend marks success-rate anomalies only: none here, and no cost marker.
    await page.getByRole('tab', { name: 'Errors' }).click();
    await waitForCharts(1);
    const failures = card('Failure trend');
    await failures.locator('.u-over').waitFor();
    expect(await failures.locator('[data-anomaly-key]').count()).toBe(0);
    expect(consoleErrors.errors).toEqual([]);
  });

  it('says how this week compares with the same days last week', async () => {
    await page.goto(`${runtime.baseUrl}/?tab=overview&range=7d&tz=UTC`);
    const sentence = page.locator('[data-week-over-week]');
    await sentence.waitFor();
    expect(await sentence.textContent()).toContain('Runs took 2 min on average');
    expect(await sentence.textContent()).toContain('20 % slower than last week (1 min 40 s)');
  });

  it('shows the scatter with r and n on screen', async () => {
    await page.goto(`${runtime.baseUrl}/?tab=efficiency&range=30d&tz=UTC`);
    const stats = page.locator('[data-scatter-stats]');
    await stats.waitFor();
    const text = (await stats.textContent()) ?? '';
    expect(text).toMatch(/r = -?\d\.\d\d/);
    expect(text).toContain(`n = ${DAYS} days`);
    expect(consoleErrors.errors).toEqual([]);
  });
});
