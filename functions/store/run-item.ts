/**
 * How a run is laid out as an Executions item, and back. Plain objects only:
 * the AWS marshalling happens in the store modules and the stream handler.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { durationMsOf, type ExecutionRecord, type ExecutionView } from '../domain/execution';
import { nanosToUsd, usdToNanos } from '../domain/money';
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
  /** Exact cost in nanodollars; absent when the cost is unknown. */
  costNanos?: bigint;
  llmCalls: number;
  toolCalls: number;
  filesModified: number;
  errorType?: string;
  errorMessage?: string;
  /** Derived: endTime − startTime. */
  durationMs: number;
  /** Derived: startTime as epoch milliseconds, for bucketing without re-parsing. */
  startMs: number;
  /** Index keys of `byStartTime` (see tables.ts). */
  startDay: string;
  startKey: string;
  /** TTL: epoch seconds after which DynamoDB may delete the raw run. */
  expiresAt: number;
  /** Hash of the validated record; an identical re-send leaves the item untouched. */
  contentHash: string;
}

/** Zero-padded so that index sort keys order by time as strings. */
export function startKeyOf(startMs: number, executionId: string): string {
  return `${String(startMs).padStart(15, '0')}#${executionId}`;
}

/** Stable hash of a validated record: key order and defaults cannot change it. */
export function contentHashOf(record: ExecutionRecord): string {
  const canonical = Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 32);
}

export function toRunItem(record: ExecutionRecord, rawRetentionDays: number): RunItem {
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
    startDay: utcDayKey(startMs),
    startKey: startKeyOf(startMs, record.executionId),
    // Retention counts from the start of the run, so a late report of an old
    // run does not live longer than its peers.
    expiresAt: Math.floor(startMs / 1000) + rawRetentionDays * DAY_SECONDS,
    contentHash: contentHashOf(record),
  };
  if (record.costUsd !== null) item.costNanos = usdToNanos(record.costUsd);
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
  llmCalls: count,
  toolCalls: count,
  filesModified: count,
  errorType: z.string().optional(),
  errorMessage: z.string().optional(),
  durationMs: count,
  startMs: z.number().int(),
});

export type RunImage = z.output<typeof runImageSchema>;

/** The API view of a stored run (GET /api/runs), equal to what was posted plus durationMs. */
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
  if (item.errorType !== undefined) view.errorType = item.errorType;
  if (item.errorMessage !== undefined) view.errorMessage = item.errorMessage;
  return view;
}
