/**
 * How a run is laid out as an Executions item, and back. Plain objects only:
 * the AWS marshalling happens in the store modules and the stream handler.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { paddedMs } from '../domain/cursor';
import { durationMsOf, type ExecutionRecord, type ExecutionView } from '../domain/execution';
import { nanosToUsd, usdToNanos } from '../domain/money';
import { estimateCostNanos, type ModelPrices } from '../domain/pricing';
import { utcDayKey } from '../domain/time';

const DAY_SECONDS = 86_400;

/** The attributes of one Executions item. */
export interface RunItem {
  executionId: string;
  startTime: string;
  endTime: string;
  status: 'success' | 'failure';
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Exact reported cost in nanodollars; absent when the run reported none. */
  costNanos?: bigint;
  /**
   * Estimated at ingest from the model price table, only without costNanos
   * and only for a priced model. Kept on the run, so a later price change
   * never rewrites a counted run, and the stream counts what it reads.
   */
  estimatedCostNanos?: bigint;
  llmCalls: number;
  toolCalls: number;
  filesModified: number;
  errorType?: string;
  errorMessage?: string;
  /** Derived: endTime − startTime. */
  durationMs: number;
  /** Derived: startTime as epoch milliseconds, for bucketing without re-parsing. */
  startMs: number;
  /** Index keys of `byStartTime` (see tables.ts): `<UTC day>#<shard>` and `<startMs>#<executionId>`. */
  startShard: string;
  startKey: string;
  /**
   * TTL: epoch seconds after which DynamoDB may delete the raw run, counted
   * from the write (ingest time), or from the start when that is later.
   */
  expiresAt: number;
  /** Hash of the validated record; an identical re-send leaves the item untouched. */
  contentHash: string;
}

/** Zero-padded so that index sort keys order by time as strings. */
export function startKeyOf(startMs: number, executionId: string): string {
  return `${paddedMs(startMs)}#${executionId}`;
}

/**
 * Write shards of each UTC day in the `byStartTime` index. A GSI partition
 * takes at most 1,000 WCU/s and a rising sort key always writes at its end,
 * so one partition per day capped ingest near 500 runs/s (2 WCU items);
 * 16 shards take 16,000 WCU/s. Readers query all shards of a day and merge.
 * Changing it moves runs to other partitions: see docs/RUNS.md first.
 */
export const RUN_INDEX_SHARDS = 16;

/** The shard of a run: a hash of its executionId, so a correction stays in its shard. */
export function runShardOf(executionId: string): number {
  return createHash('sha256').update(executionId).digest().readUInt32BE(0) % RUN_INDEX_SHARDS;
}

/** The index partition of one shard of one UTC day, `2026-11-01#7`. */
export function startShardKey(day: string, shard: number): string {
  return `${day}#${shard}`;
}

/** Stable hash of a validated record: key order and defaults cannot change it. */
export function contentHashOf(record: ExecutionRecord): string {
  const canonical = Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 32);
}

/**
 * `nowMs`: when the run is written; retention counts from it. `prices`: the
 * table that estimates a cost the run does not report (none: no estimate).
 */
export function toRunItem(
  record: ExecutionRecord,
  rawRetentionDays: number,
  nowMs = Date.now(),
  prices?: ModelPrices,
): RunItem {
  const startMs = Date.parse(record.startTime);
  const item: RunItem = {
    executionId: record.executionId,
    startTime: record.startTime,
    endTime: record.endTime,
    status: record.status,
    model: record.model,
    inputTokens: record.inputTokens,
    outputTokens: record.outputTokens,
    cacheReadTokens: record.cacheReadTokens,
    cacheWriteTokens: record.cacheWriteTokens,
    llmCalls: record.llmCalls,
    toolCalls: record.toolCalls,
    filesModified: record.filesModified,
    durationMs: durationMsOf(record),
    startMs,
    startShard: startShardKey(utcDayKey(startMs), runShardOf(record.executionId)),
    startKey: startKeyOf(startMs, record.executionId),
    // Retention counts from the write, not from the run's start: a backfill
    // or a correction of an old run is kept (and deduplicated) for the whole
    // retention, like any other. From the start when that is later (clock
    // skew), so a run never expires before rawRetentionDays after its start.
    expiresAt: Math.floor(Math.max(nowMs, startMs) / 1000) + rawRetentionDays * DAY_SECONDS,
    contentHash: contentHashOf(record),
  };
  if (record.costUsd !== null) item.costNanos = usdToNanos(record.costUsd);
  else {
    const estimate = prices && estimateCostNanos(prices, record);
    if (estimate !== undefined) item.estimatedCostNanos = estimate;
  }
  if (record.errorType !== undefined) item.errorType = record.errorType;
  if (record.errorMessage !== undefined) item.errorMessage = record.errorMessage;
  return item;
}

const count = z.number().int().min(0);
const bigintLike = z
  .union([z.bigint(), z.number().int(), z.string().regex(/^\d+$/)])
  .transform((value) => BigInt(value));

/**
 * What the stream handler accepts as a run image. Anything else (an item put
 * into the table by hand, a half-written migration) is a poison record.
 */
export const runImageSchema = z.object({
  executionId: z.string().min(1),
  startTime: z.string(),
  endTime: z.string(),
  status: z.enum(['success', 'failure']),
  model: z.string().min(1),
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  costNanos: bigintLike.optional(),
  estimatedCostNanos: bigintLike.optional(),
  llmCalls: count,
  toolCalls: count,
  filesModified: count,
  errorType: z.string().optional(),
  errorMessage: z.string().optional(),
  durationMs: count,
  startMs: z.number().int(),
});

export type RunImage = z.output<typeof runImageSchema>;

/**
 * The API view of a stored run (GET /api/runs), equal to what was posted
 * plus durationMs, and estimatedCostUsd when the run has an estimate.
 */
export function toExecutionView(item: RunImage): ExecutionView {
  const view: ExecutionView = {
    executionId: item.executionId,
    startTime: item.startTime,
    endTime: item.endTime,
    status: item.status,
    model: item.model,
    inputTokens: item.inputTokens,
    outputTokens: item.outputTokens,
    cacheReadTokens: item.cacheReadTokens,
    cacheWriteTokens: item.cacheWriteTokens,
    costUsd: item.costNanos === undefined ? null : nanosToUsd(item.costNanos),
    llmCalls: item.llmCalls,
    toolCalls: item.toolCalls,
    filesModified: item.filesModified,
    durationMs: item.durationMs,
  };
  if (item.costNanos === undefined && item.estimatedCostNanos !== undefined)
    view.estimatedCostUsd = nanosToUsd(item.estimatedCostNanos);
  if (item.errorType !== undefined) view.errorType = item.errorType;
  if (item.errorMessage !== undefined) view.errorMessage = item.errorMessage;
  return view;
}
