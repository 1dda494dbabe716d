import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import defaultPriceTable from '../../../config/model-prices.json';
import { estimateCostNanos, modelPricesSchema } from '../../../functions/domain/pricing';
import {
  demoIncidents,
  demoModels,
  incidentDayStart,
  planDemoRuns,
  seedDemoData,
} from '../../../local/demo-seed';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
// A Monday afternoon, so the last hours are busy.
const now = Date.parse('2026-11-23T15:20:00Z');
const runs = planDemoRuns({ now, days: 30 });

const successRate = (subset: typeof runs) =>
  subset.filter((run) => run.status === 'success').length / subset.length;

describe('planDemoRuns', () => {
  it('is deterministic: the same hours give the same runs', () => {
    const again = planDemoRuns({ now, days: 30 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(runs));
    // A later start with the same anchor regenerates the same runs for the hours both cover.
    const later = planDemoRuns({ now: now + 5 * hourMs, anchor: now, days: 30 });
    const byId = new Map(later.map((run) => [run.executionId, run]));
    const settled = runs.filter(
      (run) => Date.parse(run.startTime) < now - 2 * hourMs && byId.has(run.executionId),
    );
    expect(settled.length).toBeGreaterThan(runs.length * 0.95);
    const changed = settled.filter(
      (run) => JSON.stringify(byId.get(run.executionId)) !== JSON.stringify(run),
    );
    expect(changed).toEqual([]);
  });

  it('yields some 15–40 k runs for 30 days, newest first, all finished by now', () => {
    expect(runs.length).toBeGreaterThan(15_000);
    expect(runs.length).toBeLessThan(40_000);
    expect(Date.parse(runs[0]!.startTime)).toBeGreaterThan(now - 2 * hourMs);
    expect(Date.parse(runs.at(-1)!.startTime)).toBeGreaterThanOrEqual(now - 30 * dayMs - hourMs);
    expect(runs.every((run) => Date.parse(run.endTime) <= now)).toBe(true);
    expect(new Set(runs.map((run) => run.executionId)).size).toBe(runs.length);
  });

  it('has day/night and weekday/weekend volume', () => {
    const hourOf = (run: (typeof runs)[number]) => new Date(run.startTime).getUTCHours();
    const afternoon = runs.filter((run) => hourOf(run) === 14).length;
    const night = runs.filter((run) => hourOf(run) === 3).length;
    expect(afternoon).toBeGreaterThan(night * 4);
    const dayOf = (run: (typeof runs)[number]) => new Date(run.startTime).getUTCDay();
    const weekdays = runs.filter((run) => dayOf(run) >= 1 && dayOf(run) <= 5).length / 5;
    const weekends = runs.filter((run) => dayOf(run) === 0 || dayOf(run) === 6).length / 2;
    expect(weekdays).toBeGreaterThan(weekends * 2);
  });

  it('gives each model its own success rate and cost, with cache reads near 30–60 %', () => {
    for (const model of demoModels) {
      const ofModel = runs.filter((run) => run.model === model.name);
      expect(ofModel.length).toBeGreaterThan(500);
      expect(Math.abs(successRate(ofModel) - model.successRate)).toBeLessThan(0.06);
      const cacheRead = ofModel.reduce((sum, run) => sum + run.cacheReadTokens, 0);
      const prompt = ofModel.reduce(
        (sum, run) => sum + run.inputTokens + run.cacheReadTokens + run.cacheWriteTokens,
        0,
      );
      expect(cacheRead / prompt).toBeGreaterThan(0.2);
      expect(cacheRead / prompt).toBeLessThan(0.7);
    }
    const costs = runs.flatMap((run) => (run.costUsd === null ? [] : [run.costUsd]));
    expect(costs.every((cost) => Math.round(cost * 1e6) / 1e6 === cost)).toBe(true);
  });

  it('leaves some costs out, on models with a price (estimated) and without (unknown)', () => {
    const prices = modelPricesSchema.parse(defaultPriceTable);
    const withoutCost = runs.filter((run) => run.costUsd === null);
    const estimable = withoutCost.filter((run) => estimateCostNanos(prices, run) !== undefined);
    expect(withoutCost.length / runs.length).toBeGreaterThan(0.03);
    expect(estimable.length).toBeGreaterThan(0);
    expect(estimable.length).toBeLessThan(withoutCost.length);
  });

  it('labels every failure with one of the typical error types and a message', () => {
    const failures = runs.filter((run) => run.status === 'failure');
    const types = new Set(failures.map((run) => run.errorType));
    expect(types).toEqual(
      new Set(['TestFailure', 'ToolExecutionError', 'RateLimitError', 'Timeout', 'ContextWindowExceeded']),
    );
    expect(failures.every((run) => (run.errorMessage ?? '').length > 0)).toBe(true);
    expect(runs.filter((run) => run.status === 'success').every((run) => run.errorType === undefined)).toBe(
      true,
    );
  });

  it('shows the bad-deploy incident as a failure spike and keeps the last hour healthy', () => {
    const deploy = demoIncidents[0]!;
    const dayStart = incidentDayStart(deploy, now);
    const during = runs.filter((run) => {
      const start = Date.parse(run.startTime);
      return start >= dayStart + deploy.fromHourUtc * hourMs && start < dayStart + deploy.toHourUtc * hourMs;
    });
    expect(successRate(during)).toBeLessThan(0.75);
    const lastHour = runs.filter((run) => Date.parse(run.startTime) >= now - hourMs);
    expect(successRate(lastHour)).toBeGreaterThan(0.85);
  });

  it('holds incidents on working days: a weekend date moves to the Friday before', () => {
    const saturday = Date.parse('2026-11-28T12:00:00Z');
    expect(new Date(incidentDayStart({ daysAgo: 0 }, saturday)).toISOString()).toBe(
      '2026-11-27T00:00:00.000Z',
    );
    expect(new Date(incidentDayStart({ daysAgo: 6 }, saturday)).toISOString()).toBe(
      '2026-11-20T00:00:00.000Z',
    );
    expect(new Date(incidentDayStart({ daysAgo: 3 }, saturday)).toISOString()).toBe(
      '2026-11-25T00:00:00.000Z',
    );
  });

  it('shows the cost incident as a cost spike, late enough in 30 days for a full baseline', () => {
    const switched = demoIncidents.find((incident) => incident.shareFactor !== undefined)!;
    const firstDay = Math.floor(now / dayMs) * dayMs - 29 * dayMs;
    // Judged only with 14 days of data before it (functions/domain/anomalies.ts), whatever the weekday.
    for (let weekday = 0; weekday < 7; weekday++)
      expect(
        incidentDayStart(switched, now + weekday * dayMs) - (firstDay + weekday * dayMs),
      ).toBeGreaterThanOrEqual(14 * dayMs);
    const costOfDay = (start: number) =>
      runs
        .filter((run) => Date.parse(run.startTime) >= start && Date.parse(run.startTime) < start + dayMs)
        .reduce((sum, run) => sum + (run.costUsd ?? 0), 0);
    const day = incidentDayStart(switched, now);
    expect(costOfDay(day)).toBeGreaterThan(1.5 * costOfDay(day - 7 * dayMs));
  });

  it('tops up with exactly the runs that ended since the previous seeding', () => {
    const later = now + 3 * hourMs;
    const topUp = planDemoRuns({ now: later, anchor: now, days: 30, since: now });
    const everything = planDemoRuns({ now: later, anchor: now, days: 30 });
    const ids = new Set(runs.map((run) => run.executionId));
    expect(topUp.every((run) => !ids.has(run.executionId))).toBe(true);
    // Together they are everything a fresh seed at the later time would send.
    const union = new Set([...ids, ...topUp.map((run) => run.executionId)]);
    expect(everything.every((run) => union.has(run.executionId))).toBe(true);
    expect(topUp.every((run) => Date.parse(run.endTime) > now)).toBe(true);
  });
});

describe('seedDemoData', () => {
  it('abandons a POST that never answers and sends it again, so the seed cannot stall', async () => {
    // The first request of each batch is left hanging; the same batch sent again is accepted.
    const seen = new Map<string, number>();
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const runs = (JSON.parse(body) as { executions: unknown[] }).executions;
        const attempt = (seen.get(body) ?? 0) + 1;
        seen.set(body, attempt);
        if (attempt === 1) return; // never answered
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ accepted: runs.length, duplicates: 0 }));
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const { port } = server.address() as AddressInfo;
      const report = await seedDemoData({
        baseUrl: `http://127.0.0.1:${port}`,
        days: 1,
        now,
        runsPerWeekday: 150,
        requestTimeoutMs: 200,
      });
      expect(report.runs).toBeGreaterThan(0);
      expect(report).toMatchObject({ accepted: report.runs, failedRequests: 0 });
      expect([...seen.values()].every((attempts) => attempts === 2)).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
