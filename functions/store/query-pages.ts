/**
 * DynamoDB Query paging with read metering: every request asks for
 * ReturnConsumedCapacity, and a ReadMeter totals items and capacity units so
 * that each response (x-items-read, x-read-capacity-units) and the bench can
 * show what a request cost.
 */
import {
  type AttributeValue,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { dynamodb } from './clients';
import { withRetry } from './retry';

export type Item = Record<string, AttributeValue>;

/** Items and capacity a request read. */
export class ReadMeter {
  items = 0;
  queries = 0;
  capacityUnits = 0;
  record(output: Pick<QueryCommandOutput, 'Count' | 'ScannedCount' | 'ConsumedCapacity'>): void {
    this.queries++;
    // ScannedCount: items a FilterExpression dropped were read (and paid for) all the same.
    this.items += output.ScannedCount ?? output.Count ?? 0;
    this.capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
  }
}

/** One page of a Query: at most `input.Limit` items or 1 MB, after `input.ExclusiveStartKey`. */
export async function queryPage(
  meter: ReadMeter,
  input: QueryCommandInput,
): Promise<{ items: Item[]; lastEvaluatedKey?: Item }> {
  const output = await withRetry(() =>
    dynamodb.send(new QueryCommand({ ...input, ReturnConsumedCapacity: 'TOTAL' })),
  );
  meter.record(output);
  return {
    items: output.Items ?? [],
    ...(output.LastEvaluatedKey ? { lastEvaluatedKey: output.LastEvaluatedKey } : {}),
  };
}

/**
 * The pages of a Query, in order, starting after `input.ExclusiveStartKey`.
 * Each page is at most `input.Limit` items or 1 MB.
 */
async function* queryPages(
  meter: ReadMeter,
  input: QueryCommandInput,
): AsyncGenerator<{ items: Item[]; lastEvaluatedKey?: Item }> {
  let exclusiveStartKey = input.ExclusiveStartKey;
  do {
    const page = await queryPage(meter, { ...input, ExclusiveStartKey: exclusiveStartKey });
    exclusiveStartKey = page.lastEvaluatedKey;
    yield page;
  } while (exclusiveStartKey);
}

/** Every item of a Query, page after page. */
export async function queryAll(meter: ReadMeter, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of queryPages(meter, input)) items.push(...page.items);
  return items;
}
