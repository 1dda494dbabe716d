/**
 * Writes and reads of the Executions table.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients';
import { type RetryOptions, withRetry } from './retry';
import type { RunItem } from './run-item';

export type PutOutcome = 'stored' | 'duplicate';

/**
 * Stores a run unless the identical run is already there.
 *
 * One conditional PutItem, no read: the write happens when the id is new or
 * its content differs (a correction, which the stream shows as a MODIFY).
 * When the stored content hash is the same, the condition fails, nothing is
 * written and no stream record appears. Two concurrent requests for a new id
 * cannot both count as new: the second one's condition sees the first's item.
 *
 * A retry after a put whose answer was lost (timeout, dropped connection)
 * finds its own item and reports 'duplicate'; the stored state is right
 * either way, which is what makes client retries safe.
 */
export async function putRunIfChanged(
  tableName: string,
  item: RunItem,
  retry?: RetryOptions,
): Promise<PutOutcome> {
  const written = await putIf(
    {
      TableName: tableName,
      Item: item,
      ConditionExpression:
        'attribute_not_exists(executionId) OR attribute_not_exists(contentHash) OR contentHash <> :hash',
      ExpressionAttributeValues: { ':hash': item.contentHash },
    },
    retry,
  );
  return written ? 'stored' : 'duplicate';
}

/** One conditional PutItem, retried on throttling: true when written, false when its condition failed. */
export async function putIf(input: PutCommandInput, retry?: RetryOptions): Promise<boolean> {
  try {
    await withRetry((abortSignal) => documentClient.send(new PutCommand(input), { abortSignal }), retry);
    return true;
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as Error).name === 'ConditionalCheckFailedException'
    ) {
      return false;
    }
    throw error;
  }
}
