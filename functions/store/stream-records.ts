/**
 * Stream records read as run changes: what the aggregate handler counts, and
 * what `npm run rebuild` counts when it reads runs from the Executions table
 * (an item read there is the new image of an INSERT), so that both count the
 * same runs the same way.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { RunChange } from '../domain/deltas';
import { type RunImage, runImageSchema } from './run-item';
import { TRACE_SPANS_KEY_PREFIX } from './trace-spans-store';

/**
 * Longest model name and error type the API accepts, in code points; longer
 * ones did not come through ingest, and they would bloat keys and attribute names.
 */
const MAX_NAME_LENGTH = 100;
const codePoints = (text: string) => [...text].length;

const isTtlDeletion = (record: DynamoDBRecord) =>
  record.userIdentity?.type === 'Service' && record.userIdentity?.principalId === 'dynamodb.amazonaws.com';

/** A stream image as a run, or the reason it is not one. */
function readImage(image: Record<string, unknown> | undefined): RunImage | string {
  if (!image) return 'no image';
  let plain: Record<string, unknown>;
  try {
    plain = unmarshall(image as Record<string, AttributeValue>);
  } catch (error) {
    return `unreadable image: ${(error as Error).message}`;
  }
  const parsed = runImageSchema.safeParse(plain);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(item)').join(', ');
    return `not a run (bad or missing: ${fields})`;
  }
  const run = parsed.data;
  if (codePoints(run.model) > MAX_NAME_LENGTH) return `model longer than ${MAX_NAME_LENGTH} characters`;
  if (codePoints(run.errorType ?? '') > MAX_NAME_LENGTH)
    return `errorType longer than ${MAX_NAME_LENGTH} characters`;
  return run;
}

/** A stream record read: the change to count, and why it is poison if it is. */
export interface ReadRecord {
  readonly change?: RunChange;
  /** Set when the record must be reported (and end up in the on-failure destination). */
  readonly poisonReason?: string;
}

/**
 * Reads a stream record. An image that is not a run counts as no run: the
 * aggregates then equal the runs that are in the table. A record is poison
 * when its new image (INSERT, MODIFY) is not a run: its valid old image is
 * still subtracted, and the record is reported. An old image that is not a
 * run was reported when it was written, so a MODIFY that repairs it simply
 * adds the repaired run, and a REMOVE of it changes nothing.
 */
export function readStreamRecord(record: DynamoDBRecord): ReadRecord {
  // The spans of a trace waiting for the rest of it (store/trace-spans-store.ts): not a run, not poison.
  if (record.dynamodb?.Keys?.executionId?.S?.startsWith(TRACE_SPANS_KEY_PREFIX)) return {};
  const kind = record.eventName;
  const expiredByTtl = isTtlDeletion(record);
  if (kind !== 'INSERT' && kind !== 'MODIFY' && kind !== 'REMOVE') {
    return { poisonReason: `unknown eventName ${String(kind)}` };
  }
  const oldImage = kind === 'INSERT' ? undefined : readImage(record.dynamodb?.OldImage);
  const newImage = kind === 'REMOVE' ? undefined : readImage(record.dynamodb?.NewImage);
  const change: RunChange = {
    kind,
    expiredByTtl,
    ...(typeof oldImage === 'object' ? { oldRun: oldImage } : {}),
    ...(typeof newImage === 'object' ? { newRun: newImage } : {}),
  };
  return typeof newImage === 'string' ? { change, poisonReason: `new image ${newImage}` } : { change };
}
