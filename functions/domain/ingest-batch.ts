/**
 * Turns a POST /api/executions body into the runs to store: one record or a
 * batch of 1–100, each validated on its own, with a later item winning over
 * an earlier one of the same executionId.
 */
import { type ExecutionRecord, type FieldError, validateExecution } from './execution';

export const MAX_BATCH_ITEMS = 100;

export interface RejectedItem {
  readonly index: number;
  /** The executionId as sent, when it was a string; null otherwise. */
  readonly executionId: string | null;
  readonly errors: FieldError[];
}

export interface AcceptedItem {
  readonly index: number;
  readonly record: ExecutionRecord;
}

export type BatchPlan =
  | { readonly kind: 'too_large'; readonly message: string }
  | { readonly kind: 'invalid_shape'; readonly message: string; readonly rejected: RejectedItem[] }
  | {
      readonly kind: 'plan';
      /** Valid items to store, at most one per executionId (the last one sent). */
      readonly toStore: AcceptedItem[];
      readonly rejected: RejectedItem[];
      /** Valid items replaced by a later item with the same executionId in this batch. */
      readonly superseded: number;
      readonly received: number;
    };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function planBatch(body: unknown): BatchPlan {
  const isBatch = isPlainObject(body) && Object.hasOwn(body, 'executions');
  if (isBatch) {
    const extraKeys = Object.keys(body).filter((key) => key !== 'executions');
    const items = body.executions;
    if (!Array.isArray(items) || items.length === 0 || extraKeys.length > 0) {
      const message =
        extraKeys.length > 0
          ? `unknown field "${extraKeys[0]}" next to "executions"`
          : 'executions must be an array of 1–100 execution objects';
      return {
        kind: 'invalid_shape',
        message,
        rejected: [
          { index: 0, executionId: null, errors: [{ path: extraKeys[0] ?? 'executions', message }] },
        ],
      };
    }
    if (items.length > MAX_BATCH_ITEMS) {
      return {
        kind: 'too_large',
        message: `at most ${MAX_BATCH_ITEMS} executions per request, got ${items.length}`,
      };
    }
    return planItems(items);
  }
  return planItems([body]);
}

function planItems(items: readonly unknown[]): BatchPlan {
  const rejected: RejectedItem[] = [];
  const latestById = new Map<string, AcceptedItem>();
  let superseded = 0;
  items.forEach((item, index) => {
    const result = validateExecution(item);
    if (!result.ok) {
      const id =
        isPlainObject(item) && typeof item.executionId === 'string' ? item.executionId.slice(0, 128) : null;
      rejected.push({ index, executionId: id, errors: result.errors });
      return;
    }
    if (latestById.has(result.record.executionId)) superseded++;
    latestById.set(result.record.executionId, { index, record: result.record });
  });
  return { kind: 'plan', toStore: [...latestById.values()], rejected, superseded, received: items.length };
}
