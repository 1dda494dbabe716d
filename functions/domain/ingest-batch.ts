/**
 * Turns a POST /api/executions body into the runs to store: one record or a
 * batch of 1–100, each validated on its own, with a later item winning over
 * an earlier one of the same executionId.
 */
import {
  describeReceived,
  type ExecutionRecord,
  type FieldError,
  type Plausibility,
  validateExecution,
} from './execution';

export const MAX_BATCH_ITEMS = 100;

interface RejectedItem {
  readonly index: number;
  /** The executionId as sent, when it was a string (cut to 128 characters); null otherwise. */
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
      /** Valid items to store, at most one per executionId (the last one sent), in the order sent. */
      readonly toStore: AcceptedItem[];
      readonly rejected: RejectedItem[];
      /** Valid items replaced by a later item with the same executionId in this batch. */
      readonly superseded: number;
      readonly received: number;
    };

const BATCH_FORM = '{"executions": [...]} with 1–100 execution objects';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidShape(path: string, message: string): BatchPlan {
  return {
    kind: 'invalid_shape',
    message,
    rejected: [{ index: 0, executionId: null, errors: [{ path, message }] }],
  };
}

/**
 * Plans a request body. An object with an own `executions` member is a batch;
 * any other JSON value is a single execution (and is rejected by its schema
 * when it is not an object).
 */
export function planBatch(body: unknown, plausibility?: Plausibility): BatchPlan {
  if (Array.isArray(body)) {
    return invalidShape('', `the body must be one execution object or ${BATCH_FORM}, got an array`);
  }
  if (!isPlainObject(body) || !Object.hasOwn(body, 'executions')) return planItems([body], plausibility);

  const extraKey = Object.keys(body).find((key) => key !== 'executions');
  if (extraKey !== undefined) {
    const name = JSON.stringify(extraKey.slice(0, 64));
    return invalidShape(
      extraKey.slice(0, 64),
      `unknown field ${name} next to "executions"; a batch is ${BATCH_FORM}`,
    );
  }
  const items = body.executions;
  if (!Array.isArray(items)) {
    return invalidShape('executions', `executions must be an array, got ${describeReceived(items)}`);
  }
  if (items.length === 0)
    return invalidShape('executions', 'executions must hold at least 1 execution, got 0');
  if (items.length > MAX_BATCH_ITEMS) {
    return {
      kind: 'too_large',
      message: `at most ${MAX_BATCH_ITEMS} executions per request, got ${items.length}`,
    };
  }
  return planItems(items, plausibility);
}

function planItems(items: readonly unknown[], plausibility: Plausibility | undefined): BatchPlan {
  const rejected: RejectedItem[] = [];
  const latestById = new Map<string, AcceptedItem>();
  let superseded = 0;
  items.forEach((item, index) => {
    const result = validateExecution(item, plausibility);
    if (!result.ok) {
      const id =
        isPlainObject(item) && typeof item.executionId === 'string' ? item.executionId.slice(0, 128) : null;
      rejected.push({ index, executionId: id, errors: result.errors });
      return;
    }
    // Deleting first moves the id to the end of the Map's order, so the
    // items are stored in the order of their winning versions.
    if (latestById.delete(result.record.executionId)) superseded++;
    latestById.set(result.record.executionId, { index, record: result.record });
  });
  return { kind: 'plan', toStore: [...latestById.values()], rejected, superseded, received: items.length };
}
