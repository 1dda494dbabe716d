/**
 * Response shapes of the read API, as docs/API.md states them.
 * The run record comes from the domain module as a type-only import, so the
 * zod schema behind it never reaches the bundle.
 */
import type { ExecutionView } from '../../functions/domain/execution';
import type { costFigures, rowFigures } from '../../functions/domain/rates';

export type { ExecutionView };

interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  total: number;
}

export interface Summary {
  from: string;
  to: string;
  tz: string;
  executions: number;
  successes: number;
  failures: number;
  successRate: number | null;
  cost: CostFigures & { perRunUsd: number | null; perSuccessUsd: number | null };
  tokens: TokenCounts;
  cacheHitRate: number | null;
  durationMs: { avg: number | null; p50: number | null; p95: number | null; p99: number | null };
  llmCalls: { total: number; perRun: number | null };
  toolCalls: { total: number; perRun: number | null };
  filesModified: { total: number; perSuccessfulRun: number | null };
  previous: {
    /** The span compared with: the period before, cut to the elapsed part when the range reaches past now. */
    from?: string;
    to?: string;
    executions: number;
    successRate: number | null;
    costTotalUsd: number;
    costPerRunUsd: number | null;
    durationAvgMs: number | null;
    durationP95Ms: number | null;
    costPerSuccessUsd: number | null;
    cacheHitRate: number | null;
    llmCallsPerRun: number | null;
    filesModifiedPerSuccessfulRun: number | null;
  };
}

export type AnomalyFigure = 'costUsd' | 'durationMs.avg' | 'executions' | 'successRate';

/** Reported and estimated cost apart: the server's own type (types only, no code). */
export type CostFigures = ReturnType<typeof costFigures>;

/** The figures a bucket and a models row share: the server's own type (types only, no code). */
type RowFigures = ReturnType<typeof rowFigures>;

export interface Bucket extends RowFigures {
  /** ISO start of the bucket with the zone's offset, e.g. 2026-11-01T00:00:00-04:00. */
  start: string;
  llmCalls: number;
  anomalies: AnomalyFigure[];
  /** The baseline (mean of the 14 days before, or of that hour of each) of each figure in `anomalies`. */
  baselines: Partial<Record<AnomalyFigure, number>>;
}

export type Granularity = 'hour' | 'day';

export interface Timeseries {
  granularity: Granularity;
  tz: string;
  buckets: Bucket[];
}

export interface ModelStats extends RowFigures {
  model: string;
  cost: CostFigures;
  filesModifiedPerSuccessfulRun: number | null;
}

export interface ModelsResponse {
  models: ModelStats[];
}

export interface ErrorsResponse {
  totalFailures: number;
  errors: { errorType: string; count: number; share: number }[];
  other: { count: number };
  byModel: { model: string; failures: number; executions: number; failureRate: number | null }[];
}

export interface RunsResponse {
  runs: ExecutionView[];
  nextCursor: string | null;
}

export interface AlarmResponse {
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  threshold: number;
  windowMinutes: number;
  minExecutions: number;
  executions: number;
  successRate: number | null;
  cloudwatchState?: string;
}
