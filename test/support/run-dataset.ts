/**
 * A known, seeded data set of runs and the truth the query API must match,
 * computed from the raw runs alone (no aggregates, no sketch). Shared by the
 * query integration test and the query bench.
 */
import defaultPriceTable from '../../config/model-prices.json';
import type { ExecutionRecord } from '../../functions/domain/execution';
import { estimateCostNanos, modelPricesSchema } from '../../functions/domain/pricing';
import { exactPercentile } from '../../functions/domain/sketch';

/** The table ingest prices runs with when MODEL_PRICES is not set. */
const defaultPrices = modelPricesSchema.parse(defaultPriceTable);

/** A run as posted (a validated execution record). */
export type DatasetRun = ExecutionRecord;

/** Mulberry32: small, fast, and the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DATASET_MODELS = ['claude-sonnet-4', 'gpt-5#mini', 'gemini-2.5-pro', 'llama-4'] as const;
const ERROR_TYPES = ['TestFailure', 'Timeout', 'RateLimited', 'PatchConflict', 'BuildError', 'ToolCrash'];

/**
 * `count` runs starting uniformly in [startMs, endMs): several models, ~20 %
 * failures with typical error types (some without one), some unknown costs,
 * durations from seconds to an hour, messages that need CSV quoting.
 */
export function generateRuns(
  count: number,
  startMs: number,
  endMs: number,
  seed = 7,
  idPrefix = 'r',
): DatasetRun[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const runs: DatasetRun[] = [];
  for (let index = 0; index < count; index++) {
    const start = startMs + Math.floor((random() * (endMs - startMs)) / 1000) * 1000;
    const durationMs = Math.floor(2_000 + random() ** 3 * 3_600_000);
    const model =
      DATASET_MODELS[
        Math.min(DATASET_MODELS.length - 1, Math.floor(random() ** 1.5 * DATASET_MODELS.length))
      ]!;
    const failure = random() < (model === 'llama-4' ? 0.4 : 0.18);
    const run: DatasetRun = {
      executionId: `${idPrefix}-${index.toString(36)}`,
      startTime: new Date(start).toISOString(),
      endTime: new Date(start + durationMs).toISOString(),
      status: failure ? 'failure' : 'success',
      model,
      inputTokens: Math.floor(random() * 20_000),
      outputTokens: Math.floor(random() * 4_000),
      cacheReadTokens: Math.floor(random() * 30_000),
      cacheWriteTokens: Math.floor(random() * 5_000),
      costUsd: random() < 0.05 ? null : Math.round(random() * 2_000_000) / 1_000_000,
      llmCalls: Math.floor(random() * 40),
      toolCalls: Math.floor(random() * 80),
      filesModified: failure ? 0 : Math.floor(random() * 9),
    };
    if (failure && random() < 0.9) run.errorType = pick(ERROR_TYPES);
    if (failure)
      run.errorMessage = pick(['tests failed: 3 of 120', 'timed out, "after" 30 min', '=SUM(A1)\nline two']);
    runs.push(run);
  }
  return runs;
}

export interface TruthFilter {
  readonly startMs: number;
  readonly endMs: number;
  readonly models?: readonly string[];
  readonly status?: 'success' | 'failure';
}

export function selectRuns(runs: readonly DatasetRun[], filter: TruthFilter): DatasetRun[] {
  return runs.filter((run) => {
    const start = Date.parse(run.startTime);
    return (
      start >= filter.startMs &&
      start < filter.endMs &&
      (!filter.models || filter.models.length === 0 || filter.models.includes(run.model)) &&
      (!filter.status || run.status === filter.status)
    );
  });
}

const durationOf = (run: DatasetRun) => Date.parse(run.endTime) - Date.parse(run.startTime);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** The figures the summary reports, from raw runs. */
export function truthOf(runs: readonly DatasetRun[]) {
  const executions = runs.length;
  const successes = runs.filter((run) => run.status === 'success').length;
  // Costs are summed in integer nanodollars, the way the API promises exactness;
  // a run without a cost is estimated from the default price table, if its model has a price.
  const reportedNanos = runs.reduce((sum, run) => sum + BigInt(Math.round((run.costUsd ?? 0) * 1e9)), 0n);
  const estimates = runs.flatMap((run) => {
    const estimate = run.costUsd === null ? estimateCostNanos(defaultPrices, run) : undefined;
    return estimate === undefined ? [] : [estimate];
  });
  const estimatedNanos = estimates.reduce((sum, estimate) => sum + estimate, 0n);
  const costUsd = Number(reportedNanos + estimatedNanos) / 1e9;
  const input = runs.reduce((sum, run) => sum + run.inputTokens, 0);
  const cacheRead = runs.reduce((sum, run) => sum + run.cacheReadTokens, 0);
  const cacheWrite = runs.reduce((sum, run) => sum + run.cacheWriteTokens, 0);
  const durations = runs.map(durationOf);
  return {
    executions,
    successes,
    failures: executions - successes,
    successRate: ratio(successes, executions),
    costUsd,
    costPerRunUsd: executions === 0 ? null : costUsd / executions,
    reportedCostUsd: Number(reportedNanos) / 1e9,
    estimatedCostUsd: Number(estimatedNanos) / 1e9,
    runsWithEstimatedCost: estimates.length,
    runsWithUnknownCost: runs.filter((run) => run.costUsd === null).length - estimates.length,
    cacheHitRate: ratio(cacheRead, input + cacheRead + cacheWrite),
    durationAvg: ratio(
      durations.reduce((sum, value) => sum + value, 0),
      executions,
    ),
    durationP50: exactPercentile(durations, 0.5),
    durationP95: exactPercentile(durations, 0.95),
    durationP99: exactPercentile(durations, 0.99),
    filesModifiedPerSuccessfulRun: ratio(
      runs.reduce((sum, run) => sum + (run.status === 'success' ? run.filesModified : 0), 0),
      successes,
    ),
  };
}

/** Failures per error type, missing types counted as Unknown. */
export function errorCountsOf(runs: readonly DatasetRun[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const run of runs) {
    if (run.status !== 'failure') continue;
    const type = run.errorType ?? 'Unknown';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}
