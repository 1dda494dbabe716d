/**
 * The CloudWatch metrics of one batch, built from the counter deltas that were
 * actually applied, so a replayed batch does not page anyone twice. Returns
 * plain data; functions/store/metrics-emitter.ts writes it as Embedded Metric
 * Format, with the stage dimension every custom metric carries.
 *
 * Executions and Failures are filed at the minute the runs started (what the
 * hour items count per minute, and what GET /api/alarm reads), so the
 * success-rate alarm and GET /api/alarm judge the same runs however late a
 * run is reported (docs/QUERY.md, "Alarm"). CostUsd is filed when it is
 * emitted: the cost anomaly alarm watches spend as it arrives, and an hour
 * item's cost is not split by minute, so a start-hour timestamp could put a
 * late run's cost before every future window of that alarm. So are
 * ReportedExecutions and ReportedFailures (overall only), the runs counted
 * now that started within `REPORTED_WITHIN_HOURS`: the late-failures
 * alarm sees runs that hang for over an hour and then fail, which never
 * reach the success-rate alarm's window.
 */
import { metricNames, REPORTED_WITHIN_HOURS } from './alarm-rule';
import { RUN_STATUSES } from './counters';
import { countsNothing, type ItemDelta } from './deltas';
import { nanosToUsd } from './money';
import { totalCostNanos } from './rates';
import { HOUR_MS } from './time';

interface MetricSample {
  readonly name: string;
  readonly unit: 'Count' | 'None';
  readonly value: number;
}

/**
 * One EMF document: samples that share one timestamp and one set of
 * dimensions (besides the service and stage ones every document has). EMF
 * gives each metric name one value per document, so overall and per-model
 * figures, and each minute, are separate documents.
 */
export interface MetricDocument {
  /** When CloudWatch files the samples, epoch milliseconds; absent: when they are emitted. */
  readonly timestampMs?: number;
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly samples: readonly MetricSample[];
}

/** What a batch applied to one model's hour item. */
export interface AppliedHour {
  readonly model: string;
  /** Start of the item's hour, epoch milliseconds. */
  readonly hourStartMs: number;
  readonly delta: ItemDelta;
}

/** Runs of one start minute, overall or of one model. */
interface MinuteCounts {
  readonly timestampMs: number;
  readonly scope: Scope;
  executions: number;
  failures: number;
}

/** The model key of the overall figures: none, so it cannot clash with a model name. */
const OVERALL = undefined;
type Scope = string | typeof OVERALL;

const MINUTE_MS = 60_000;

/**
 * The EMF timestamps CloudWatch takes: "within 14 days in the past or up to
 * 2 hours in the future" (Powertools Metrics, which warns about any other and
 * emits it anyway; CloudWatch then drops it). At the old end an hour is kept
 * in hand for the time CloudWatch Logs takes to read the line. A minute outside them (a run
 * sent weeks after it started, say) gets no document: no alarm window reaches
 * it, and the API counts the run by its start all the same.
 */
const FILED_FROM_MS = 14 * 24 * HOUR_MS - HOUR_MS;
const FILED_UNTIL_MS = 2 * HOUR_MS;

const dimensionsOf = (scope: Scope) =>
  scope === OVERALL ? {} : { dimensions: { [metricNames.modelDimension]: scope } };

/**
 * Executions and Failures per start minute, overall and per model (a minute
 * whose counts cancel out, or that CloudWatch would not take at `nowMs`, is
 * left out), then CostUsd overall and per model at emission, the overall one
 * with ReportedExecutions and ReportedFailures; empty when nothing was applied.
 */
export function batchMetrics(applied: readonly AppliedHour[], nowMs: number): MetricDocument[] {
  // By minute and scope (a model name is never empty, so '' is the overall figures' own key).
  const runsByMinute = new Map<string, MinuteCounts>();
  const costNanos = new Map<Scope, bigint>();
  const reported = { executions: 0, failures: 0 };
  const reportedFromMs = nowMs - REPORTED_WITHIN_HOURS * HOUR_MS;
  for (const { model, hourStartMs, delta } of applied) {
    if (countsNothing(delta)) continue;
    for (const status of RUN_STATUSES) {
      const part = delta.byStatus[status];
      for (const [minute, runs] of part.perMinute) {
        const time = hourStartMs + minute * MINUTE_MS;
        if (time >= reportedFromMs) {
          reported.executions += runs;
          if (status === 'failure') reported.failures += runs;
        }
        if (time < nowMs - FILED_FROM_MS || time > nowMs + FILED_UNTIL_MS) continue;
        for (const scope of [OVERALL, model]) {
          const key = `${time} ${scope ?? ''}`;
          const counts = runsByMinute.get(key) ?? { timestampMs: time, scope, executions: 0, failures: 0 };
          runsByMinute.set(key, counts);
          counts.executions += runs;
          if (status === 'failure') counts.failures += runs;
        }
      }
      // Reported plus estimated, as the API's totalUsd: the cost alarm sees what runs without a cost spend too.
      for (const scope of [OVERALL, model])
        costNanos.set(scope, (costNanos.get(scope) ?? 0n) + totalCostNanos(part.counters));
    }
  }
  return [
    // Sorted by minute; within one, overall first (it is always set first, and the sort is stable).
    ...[...runsByMinute.values()]
      .filter(({ executions, failures }) => executions !== 0 || failures !== 0)
      .sort((a, b) => a.timestampMs - b.timestampMs)
      .map(({ timestampMs, scope, executions, failures }) => ({
        timestampMs,
        ...dimensionsOf(scope),
        samples: [
          { name: metricNames.executions, unit: 'Count' as const, value: executions },
          { name: metricNames.failures, unit: 'Count' as const, value: failures },
        ],
      })),
    ...[...costNanos].map(([scope, nanos]) => ({
      ...dimensionsOf(scope),
      samples: [
        { name: metricNames.costUsd, unit: 'None' as const, value: nanosToUsd(nanos) },
        ...(scope === OVERALL
          ? [
              { name: metricNames.reportedExecutions, unit: 'Count' as const, value: reported.executions },
              { name: metricNames.reportedFailures, unit: 'Count' as const, value: reported.failures },
            ]
          : []),
      ],
    })),
  ];
}
