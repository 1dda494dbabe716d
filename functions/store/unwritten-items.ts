/**
 * The dead-letter path of an aggregate item that DynamoDB refuses to write.
 *
 * A ValidationException on an UpdateItem (the item would pass 400 KB, an
 * attribute is malformed) fails the same way on every retry, so retrying the
 * stream batch would only stall the shard behind it. The aggregate handler
 * therefore leaves that item's contributions out, lets the batch succeed, and
 * records here which records were left out of which item:
 *
 *   pk = UNWRITTEN   sk = <bucket>#<model>#<shardId>#<first sequence number>
 *
 * `bucket` starts with the UTC day (`2026-11-01` or `2026-11-01T13`), so the
 * entries of a day are one Query with begins_with. The entries are what
 * `npm run rebuild` reports and clears once it has rebuilt their day from the
 * Executions table (see docs/REBUILD.md).
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { STREAM_BATCH_SIZE } from '../domain/stream-batch';
import { dynamodb } from './clients';
import { type RetryOptions, withRetry } from './retry';

export const UNWRITTEN_PK = 'UNWRITTEN';

/** One aggregate write that DynamoDB refused. */
export interface UnwrittenItem {
  readonly granularity: 'hour' | 'day';
  readonly model: string;
  /** `2026-11-01T13` or `2026-11-01`. */
  readonly bucket: string;
  readonly shardId: string;
  /** Stream sequence numbers of the records whose contributions were left out. */
  readonly sequenceNumbers: readonly string[];
  readonly eventIds: readonly string[];
  readonly error: string;
  /** ISO time the write was refused. */
  readonly at: string;
}

/**
 * Record ids kept per entry: all of a batch's (STREAM_BATCH_SIZE at most),
 * under 80 KB for 1,000 sequence numbers and event ids, well within an item's
 * 400 KB, so the runbook can name every record left out.
 */
const MAX_IDS = STREAM_BATCH_SIZE;

function sortKeyOf(entry: UnwrittenItem): string {
  return `${entry.bucket}#${entry.model}#${entry.shardId}#${entry.sequenceNumbers[0] ?? ''}`;
}

/** Records a refused write. Idempotent: a retried batch writes the same key again. */
export async function recordUnwrittenItem(
  tableName: string,
  entry: UnwrittenItem,
  retry: RetryOptions,
): Promise<void> {
  const item: Record<string, AttributeValue> = {
    pk: { S: UNWRITTEN_PK },
    sk: { S: sortKeyOf(entry) },
    granularity: { S: entry.granularity },
    model: { S: entry.model },
    bucket: { S: entry.bucket },
    shardId: { S: entry.shardId },
    sequenceNumbers: { S: entry.sequenceNumbers.slice(0, MAX_IDS).join(',') },
    records: { N: String(entry.sequenceNumbers.length) },
    eventIds: { S: entry.eventIds.slice(0, MAX_IDS).join(',') },
    error: { S: entry.error.slice(0, 1_000) },
    at: { S: entry.at },
  };
  await withRetry(
    (abortSignal) => dynamodb.send(new PutItemCommand({ TableName: tableName, Item: item }), { abortSignal }),
    retry,
  );
}

/** A stored entry, as the rebuild tool lists it. */
export interface StoredUnwrittenItem {
  readonly sk: string;
  readonly model: string;
  readonly bucket: string;
  readonly shardId: string;
  readonly records: number;
  readonly sequenceNumbers: string;
  readonly error: string;
  readonly at: string;
}

/** The entries whose bucket lies on UTC day `day` (`2026-11-01`). */
export async function listUnwrittenItems(
  client: DynamoDBClient,
  tableName: string,
  day: string,
): Promise<StoredUnwrittenItem[]> {
  const entries: StoredUnwrittenItem[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :day)',
        ExpressionAttributeValues: { ':pk': { S: UNWRITTEN_PK }, ':day': { S: day } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? [])
      entries.push({
        sk: item.sk?.S ?? '',
        model: item.model?.S ?? '',
        bucket: item.bucket?.S ?? '',
        shardId: item.shardId?.S ?? '',
        records: Number(item.records?.N ?? 0),
        sequenceNumbers: item.sequenceNumbers?.S ?? '',
        error: item.error?.S ?? '',
        at: item.at?.S ?? '',
      });
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

/** Deletes an entry once its item has been rebuilt. */
export async function clearUnwrittenItem(
  client: DynamoDBClient,
  tableName: string,
  sk: string,
): Promise<void> {
  await client.send(
    new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: UNWRITTEN_PK }, sk: { S: sk } } }),
  );
}
