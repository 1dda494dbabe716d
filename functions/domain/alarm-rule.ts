/**
 * The paging rule, shared by the CDK alarm (lib/) and GET /api/alarm, so that
 * what the dashboard says and what pages on-call can never disagree.
 */
import { utcHourKey } from './time';

export const alarmRule = {
  /** Page when the success rate is below this fraction. */
  threshold: 0.85,
  /** Trailing window the rate is computed over. */
  windowMinutes: 60,
  /**
   * Below this many runs in the window the rate is noise (2 failures out of 3
   * is not an outage): the state is INSUFFICIENT_DATA and nobody is paged.
   */
  minExecutions: 10,
} as const;

/**
 * The late-failures alarm (the rule above on runs as they are reported)
 * counts the runs reported in the window that started at most this many
 * hours before: a run that hung and then failed is at most the longest run
 * ingest takes (maxDurationHours, 24 by default, domain/execution.ts) late,
 * while a backlog of older runs sent at once is no outage to page on. Apart
 * from alarmRule, which the dashboard bundles.
 */
export const REPORTED_WITHIN_HOURS = 24;

/**
 * CloudWatch namespace, metric and dimension names the functions emit (as
 * Embedded Metric Format, functions/store/metrics-emitter.ts) and the alarms
 * read (lib/constructs/alarms.ts). Every custom metric carries the `service`
 * dimension (Powertools adds it) and the `Stage` dimension, so the stages of
 * one account never count into each other's alarms.
 */
export const metricNames = {
  namespace: 'FixerAgent',
  /** Value of the `service` dimension; also POWERTOOLS_SERVICE_NAME of every function. */
  service: 'fixer-agent-metrics',
  serviceDimension: 'service',
  stageDimension: 'Stage',
  executions: 'Executions',
  failures: 'Failures',
  costUsd: 'CostUsd',
  /**
   * Runs counted, and failed runs, filed when the aggregate function counts
   * them rather than at their start (batch-metrics.ts): the late-failures
   * alarm reads them.
   */
  reportedExecutions: 'ReportedExecutions',
  reportedFailures: 'ReportedFailures',
  modelDimension: 'Model',
  /** 5xx answers the HTTP handlers give themselves, by `Function` (ingest, query). */
  serverErrors: 'ServerErrorResponses',
  functionDimension: 'Function',
  /** Settled aggregate items the daily audit found different from the Executions table. */
  aggregateMismatches: 'AggregateMismatches',
  /** Metric documents a function could not build or write (logged as well). */
  emitFailures: 'MetricsEmitFailures',
} as const;

/** The dimensions every custom metric of `stage` carries, as the alarms select them. */
export function stageDimensions(stage: string): Record<string, string> {
  return { [metricNames.serviceDimension]: metricNames.service, [metricNames.stageDimension]: stage };
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Evaluates the rule on the counts of the trailing window. */
export function evaluateAlarm(
  executions: number,
  successes: number,
): {
  state: AlarmState;
  successRate: number | null;
} {
  const successRate = executions === 0 ? null : successes / executions;
  if (executions < alarmRule.minExecutions || successRate === null)
    return { state: 'INSUFFICIENT_DATA', successRate };
  return { state: successRate < alarmRule.threshold ? 'ALARM' : 'OK', successRate };
}

/** Runs per minute of one hour item, by status (as aggregates-reader.ts decodes them). */
export interface HourMinutes {
  /** Hour key, `2026-11-01T13`. */
  readonly bucket: string;
  readonly perMinute: Readonly<Record<'success' | 'failure', ReadonlyMap<number, number>>>;
}

const MINUTE_MS = 60_000;

/**
 * The alarm window as whole minutes: the current minute and the 59 before
 * it, by run start time, so it is read from two hour items (this hour and
 * the one before) whatever the number of runs.
 */
export function alarmWindow(nowMs: number): { startMs: number; endMs: number; hourKeys: string[] } {
  const endMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const startMs = endMs - alarmRule.windowMinutes * MINUTE_MS;
  const hourKeys = [...new Set([utcHourKey(startMs), utcHourKey(endMs - 1)])];
  return { startMs, endMs, hourKeys };
}

/** Runs and successes of the selected statuses that started in the window. */
export function countAlarmWindow(
  hours: readonly HourMinutes[],
  window: { startMs: number; endMs: number },
  statuses: readonly ('success' | 'failure')[],
): { executions: number; successes: number } {
  let executions = 0;
  let successes = 0;
  for (const hour of hours) {
    const hourStartMs = Date.parse(`${hour.bucket}:00:00Z`);
    for (const status of statuses) {
      for (const [minute, count] of hour.perMinute[status]) {
        const minuteMs = hourStartMs + minute * MINUTE_MS;
        if (minuteMs < window.startMs || minuteMs >= window.endMs) continue;
        executions += count;
        if (status === 'success') successes += count;
      }
    }
  }
  return { executions, successes };
}
