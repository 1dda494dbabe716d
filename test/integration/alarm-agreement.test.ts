/**
 * The paging rule twice, on the same runs: the CloudWatch alarm the stack
 * synthesizes (its metric-math expression, threshold, comparison and
 * missing-data treatment, evaluated here on the Executions and Failures the
 * aggregate handler emitted as EMF) and GET /api/alarm. They must page on the
 * same runs: below the volume guard neither pages (the API says
 * INSUFFICIENT_DATA, the expression reads 1), above it both page below 85 %.
 *
 * Both count a run by its start: the handler files Executions and Failures
 * at the minute the runs started (functions/domain/batch-metrics.ts), so a
 * run reported long after it started falls in or out of both windows alike.
 * The late-failures alarm applies the same rule to the runs as they are
 * reported (ReportedExecutions, ReportedFailures): it agrees with the other
 * two on runs reported soon after they start, and pages alone on runs that
 * hung for over an hour and then failed.
 */
import { describe, expect, it } from 'vitest';
import { metricNames } from '../../functions/domain/alarm-rule';
import { synth } from '../infra/synth';
import { postWithRetry } from '../reliability/lib/http';
import { useTestRuntime } from '../support/test-runtime';

interface AlarmProperties {
  AlarmDescription?: string;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  Metrics: {
    Id: string;
    Expression?: string;
    MetricStat?: {
      Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
      Period: number;
    };
  }[];
}

/** The alarm of the synthesized stack whose description matches `description`. */
function synthesizedAlarm(description: RegExp): AlarmProperties {
  const alarms = Object.values(synth().template.findResources('AWS::CloudWatch::Alarm')).map(
    (resource) => (resource as { Properties: AlarmProperties }).Properties,
  );
  const found = alarms.filter((alarm) => description.test(alarm.AlarmDescription ?? ''));
  expect(found).toHaveLength(1);
  return found[0]!;
}

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [field: string]: unknown;
}

/**
 * CloudWatch metric math for the functions this alarm's expression uses
 * (IF, FILL, comparisons and arithmetic), in JavaScript's syntax, which
 * they share.
 */
function evaluateExpression(expression: string, values: Record<string, number | undefined>): number {
  if (!/^[\w\s(),.>=<+\-*/]+$/.test(expression)) throw new Error(`unexpected expression: ${expression}`);
  const names = Object.keys(values);
  const evaluate = new Function('IF', 'FILL', ...names, `return ${expression};`) as (
    ...args: unknown[]
  ) => number;
  const condition = (test: boolean, then: number, otherwise: number) => (test ? then : otherwise);
  const fill = (value: number | undefined, instead: number) => value ?? instead;
  return evaluate(condition, fill, ...names.map((name) => values[name]));
}

describe('the CloudWatch alarm and GET /api/alarm on the same runs', () => {
  const system = useTestRuntime();
  let sent = 0;
  const successRate = synthesizedAlarm(/success rate/);
  const lateFailures = synthesizedAlarm(/^Under .* runs reported in the last/);

  async function send(successes: number, failures: number, startedMinutesAgo = 5) {
    const startMs = Date.now() - startedMinutesAgo * 60_000;
    const executions = Array.from({ length: successes + failures }, (_, index) => {
      const failed = index < failures;
      return {
        executionId: `agree-${sent++}`,
        startTime: new Date(startMs + index * 1_000).toISOString(),
        endTime: new Date(startMs + index * 1_000 + 30_000).toISOString(),
        status: failed ? 'failure' : 'success',
        model: 'claude-sonnet-4',
        inputTokens: 10,
        outputTokens: 5,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0.01,
        llmCalls: 1,
        toolCalls: 1,
        filesModified: 0,
        ...(failed ? { errorType: 'TestFailure' } : {}),
      };
    });
    const { answer } = await postWithRetry(system.http, { executions }, { deadlineMs: Date.now() + 60_000 });
    expect(answer.status, answer.body).toBeLessThan(300);
    await system.runtime.poller.waitUntilCaughtUp(60_000);
  }

  /**
   * An alarm's verdict on the EMF documents of its window, as CloudWatch would
   * reach it; only documents filed from `fromMs` on, when given.
   */
  function cloudWatchVerdict(
    alarm: AlarmProperties,
    nowMs: number,
    fromMs = 0,
  ): { value: number | null; pages: boolean } {
    const sums: Record<string, number | undefined> = {};
    for (const query of alarm.Metrics) {
      const stat = query.MetricStat;
      if (!stat) continue;
      const dimensionNames = stat.Metric.Dimensions.map((dimension) => dimension.Name).sort();
      for (const document of system.runtime.metricsSink.recent as EmfDocument[]) {
        const { Timestamp, CloudWatchMetrics } = document._aws;
        if (Timestamp < Math.max(nowMs - stat.Period * 1_000, fromMs) || Timestamp > nowMs) continue;
        const directive = CloudWatchMetrics[0];
        // The alarm's own dimension set (service and Stage, no Model); the Stage value is the runtime's.
        if (JSON.stringify([...(directive?.Dimensions[0] ?? [])].sort()) !== JSON.stringify(dimensionNames))
          continue;
        if (document[metricNames.serviceDimension] !== metricNames.service) continue;
        if (!directive?.Metrics.some((metric) => metric.Name === stat.Metric.MetricName)) continue;
        sums[query.Id] = (sums[query.Id] ?? 0) + Number(document[stat.Metric.MetricName]);
      }
    }
    const expression = alarm.Metrics.find((query) => query.Expression)?.Expression ?? '';
    // No datapoint of either metric: the expression has no value, which the alarm treats as not breaching.
    if (Object.values(sums).every((sum) => sum === undefined)) {
      expect(alarm.TreatMissingData).toBe('notBreaching');
      return { value: null, pages: false };
    }
    const value = evaluateExpression(expression, sums);
    expect(alarm.ComparisonOperator).toBe('LessThanThreshold');
    return { value, pages: value < alarm.Threshold };
  }

  async function verdicts() {
    const api = await system.http.getJson<{ state: string; executions: number; successRate: number | null }>(
      '/api/alarm',
    );
    const nowMs = Date.now();
    return {
      api,
      cloudWatch: cloudWatchVerdict(successRate, nowMs),
      lateFailures: cloudWatchVerdict(lateFailures, nowMs),
    };
  }

  it('pages on neither with no runs, below the volume guard or at 87.5 %, and on both at 70 %', async () => {
    let { api, cloudWatch, lateFailures } = await verdicts();
    expect(api.state).toBe('INSUFFICIENT_DATA');
    expect(cloudWatch).toEqual({ value: null, pages: false });
    expect(lateFailures).toEqual(cloudWatch);

    // 5 failed runs: under the 10-run guard, neither pages.
    await send(0, 5);
    ({ api, cloudWatch, lateFailures } = await verdicts());
    expect(api).toMatchObject({ state: 'INSUFFICIENT_DATA', executions: 5, successRate: 0 });
    expect(cloudWatch).toEqual({ value: 1, pages: false });
    expect(lateFailures).toEqual(cloudWatch);

    // 40 runs, 35 of them successes: 87.5 %.
    await send(35, 0);
    ({ api, cloudWatch, lateFailures } = await verdicts());
    expect(api).toMatchObject({ state: 'OK', executions: 40, successRate: 0.875 });
    expect(cloudWatch).toEqual({ value: 0.875, pages: false });
    expect(lateFailures).toEqual(cloudWatch);

    // 50 runs, 15 of them failed: 70 %.
    await send(0, 10);
    ({ api, cloudWatch, lateFailures } = await verdicts());
    expect(api).toMatchObject({ state: 'ALARM', executions: 50, successRate: 0.7 });
    expect(cloudWatch.pages).toBe(true);
    expect(cloudWatch.value).toBeCloseTo(0.7, 12);
    // Runs reported five minutes after they started: the late-failures alarm says the same.
    expect(lateFailures.pages).toBe(true);
    expect(lateFailures.value).toBeCloseTo(0.7, 12);
  });

  it('leaves out of both the runs that started before the hour, however late they are reported', async () => {
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const summary = () =>
      system.http.getJson<{ executions: number }>(`/api/summary?from=${day(-1)}&to=${day(0)}&tz=UTC`);
    const before = await verdicts();
    const counted = (await summary()).executions;
    // 40 failures that started 70 minutes ago, reported now.
    const reportedFromMs = Date.now();
    await send(0, 40, 70);
    expect((await summary()).executions).toBe(counted + 40);
    const after = await verdicts();
    expect(after.api).toEqual(before.api);
    expect(after.cloudWatch).toEqual(before.cloudWatch);
    // The late-failures alarm, on what was reported since: 40 runs, none succeeded, pages.
    expect(cloudWatchVerdict(lateFailures, Date.now(), reportedFromMs)).toEqual({ value: 0, pages: true });
    expect(cloudWatchVerdict(successRate, Date.now(), reportedFromMs)).toEqual({ value: null, pages: false });
  });

  it('leaves a backlog of runs that started over a day ago out of the late-failures alarm', async () => {
    const reportedFromMs = Date.now();
    // 30 failures that started 26 hours ago, sent only now.
    await send(0, 30, 26 * 60);
    expect(cloudWatchVerdict(lateFailures, Date.now(), reportedFromMs)).toEqual({ value: 1, pages: false });
  });
});
