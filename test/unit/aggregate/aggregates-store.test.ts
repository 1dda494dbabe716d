import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchAccumulator, type PendingItem } from '../../../functions/domain/deltas';
import { applyPendingItem } from '../../../functions/store/aggregates-store';
import { runImage } from './runs';

const dynamodb = mockClient(DynamoDBClient);
const SHARD = 'shardId-00000001700000000000-aaaaaaaa';
const WATERMARK = `w:${SHARD}`;
const noWait = { attempts: 3, sleep: async () => undefined };
const seq = (n: number) => String(n).padStart(40, '0');

/** The hour item of a batch of INSERTs at sequence numbers 1..n, with inputTokens 1, 10, 100, … */
function hourItemOf(count: number): PendingItem {
  const accumulator = new BatchAccumulator();
  for (let index = 1; index <= count; index++)
    accumulator.add(seq(index), {
      kind: 'INSERT',
      newRun: runImage({ executionId: `r${index}`, inputTokens: 10 ** (index - 1) }),
      expiredByTtl: false,
    });
  const item = accumulator.pendingItems().find((pending) => pending.granularity === 'hour');
  if (!item) throw new Error('no hour item');
  return item;
}

function conditionFailure(watermark?: string) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item:
      watermark === undefined ? undefined : { pk: { S: 'x' }, sk: { S: 'y' }, [WATERMARK]: { S: watermark } },
  });
}

const inputTokensSent = (call: number) => {
  const input = dynamodb.commandCalls(UpdateItemCommand)[call]?.args[0].input;
  const names = input?.ExpressionAttributeNames ?? {};
  const placeholder = Object.keys(names).find((key) => names[key] === 'si');
  return placeholder === undefined
    ? undefined
    : input?.ExpressionAttributeValues?.[`:v${placeholder.slice(2)}`]?.N;
};

describe('applyPendingItem', () => {
  afterEach(() => dynamodb.reset());

  it('adds the batch and sets the watermark under a condition that the item saw none of it', async () => {
    dynamodb.on(UpdateItemCommand).resolves({ ConsumedCapacity: { CapacityUnits: 1 } });

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait);

    const input = dynamodb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_not_exists(#wm) OR #wm < :min');
    expect(input?.ExpressionAttributeValues?.[':min']).toEqual({ S: seq(1) });
    expect(input?.ExpressionAttributeValues?.[':max']).toEqual({ S: seq(3) });
    expect(input?.ExpressionAttributeNames?.['#wm']).toBe(WATERMARK);
    expect(input?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(inputTokensSent(0)).toBe('111');
    expect(result).toMatchObject({ requests: 1, capacityUnits: 1 });
  });

  it('skips a replayed batch when the returned watermark covers it', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure(seq(3)));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait);

    expect(result.applied.size).toBe(0);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('re-sums and writes only what lies past a watermark that straddles the batch', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailure(seq(2)))
      .resolves({ ConsumedCapacity: { CapacityUnits: 1 } });

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait);

    const retry = dynamodb.commandCalls(UpdateItemCommand)[1]?.args[0].input;
    expect(retry?.ConditionExpression).toBe('#wm = :observed');
    expect(retry?.ExpressionAttributeValues?.[':observed']).toEqual({ S: seq(2) });
    expect(inputTokensSent(1)).toBe('100');
    expect(result.applied.get('si')).toBe(100);
    expect(result.requests).toBe(2);
  });

  it('retries a throttled write and applies it once', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ThrottlingException',
    });
    dynamodb.on(UpdateItemCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({});

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait);

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(3);
    expect(result.applied.get('si')).toBe(11);
  });

  it('treats a lost response to a write that landed as already applied', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(timeout)
      .rejects(conditionFailure(seq(2)));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait);

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(result.applied.size).toBe(0);
  });

  it('still moves the watermark when the contributions cancel out', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    const run = runImage();
    const accumulator = new BatchAccumulator();
    accumulator.add(seq(1), { kind: 'INSERT', newRun: run, expiredByTtl: false });
    accumulator.add(seq(2), { kind: 'REMOVE', oldRun: run, expiredByTtl: false });
    const [item] = accumulator.pendingItems();
    if (!item) throw new Error('no item');

    await applyPendingItem('Aggregates', SHARD, item, noWait);

    const input = dynamodb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toBe('SET #wm = :max');
    expect(input?.ExpressionAttributeValues?.[':max']).toEqual({ S: seq(2) });
  });

  it('fails the batch when a failed condition comes back without the watermark', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure());

    await expect(applyPendingItem('Aggregates', SHARD, hourItemOf(1), noWait)).rejects.toThrow(
      /no watermark/,
    );
  });
});
