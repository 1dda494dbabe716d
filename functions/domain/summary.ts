/**
 * GET /api/summary's body from summed counters. Pure.
 */
import { nanosToUsd } from './money';
import {
  cacheHitRate,
  costFigures,
  durationFigures,
  ratio,
  type Totals,
  tokensOf,
  totalCostNanos,
  totalCostPer,
} from './rates';

/**
 * `previousSpan` is the span `previous` covers (see comparedPreviousRange in
 * query-range.ts); the API always gives it, so a reader can say what the
 * figures are compared with.
 */
export function summaryBody(
  range: { from: string; to: string; tz: string },
  current: Totals,
  previous: Totals,
  previousSpan?: { from: string; to: string },
) {
  const { counters } = current;
  const duration = durationFigures(counters, current.histogram, current.extent);
  const previousDuration = durationFigures(previous.counters, previous.histogram, previous.extent);
  return {
    from: range.from,
    to: range.to,
    tz: range.tz,
    executions: counters.executions,
    successes: counters.successes,
    failures: counters.failures,
    successRate: ratio(counters.successes, counters.executions),
    cost: {
      ...costFigures(counters),
      perRunUsd: totalCostPer(counters, counters.executions),
      perSuccessUsd: totalCostPer(counters, counters.successes),
    },
    tokens: tokensOf(counters),
    cacheHitRate: cacheHitRate(counters),
    durationMs: duration,
    llmCalls: { total: counters.llmCalls, perRun: ratio(counters.llmCalls, counters.executions) },
    toolCalls: { total: counters.toolCalls, perRun: ratio(counters.toolCalls, counters.executions) },
    filesModified: {
      total: counters.filesModified,
      perSuccessfulRun: ratio(counters.filesModified, counters.successes),
    },
    previous: {
      ...(previousSpan ? { from: previousSpan.from, to: previousSpan.to } : {}),
      executions: previous.counters.executions,
      successRate: ratio(previous.counters.successes, previous.counters.executions),
      costTotalUsd: nanosToUsd(totalCostNanos(previous.counters)),
      costPerRunUsd: totalCostPer(previous.counters, previous.counters.executions),
      durationAvgMs: previousDuration.avg,
      durationP95Ms: previousDuration.p95,
      // Extensions of API.md's `previous`, so that the dashboard's KPI cards
      // need no second summary request for the period before.
      costPerSuccessUsd: totalCostPer(previous.counters, previous.counters.successes),
      cacheHitRate: cacheHitRate(previous.counters),
      llmCallsPerRun: ratio(previous.counters.llmCalls, previous.counters.executions),
      filesModifiedPerSuccessfulRun: ratio(previous.counters.filesModified, previous.counters.successes),
    },
  };
}
