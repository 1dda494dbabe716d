import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchAccumulator, countsNothing, type PendingItem } from '../../../functions/domain/deltas';
import { bucketAttribute } from '../../../functions/domain/sketch';
import { applyPendingItem, KnownItemStates } from '../../../functions/store/aggregates-store';
import { runImage } from './runs';

const dynamodb = mockClient(DynamoDBClient);
const SHARD = 'shardId-00000001700000000000-aaaaaaaa';
const WATERMARK = `w:${SHARD}`;
const noWait = { attempts: 3, sleep: async () => undefined };
const seq = (n: number) => String(n).padStart(40, '0');
/** The packed index of the runs' duration bucket (every run below lasts 150 s). */
const BUCKET = bucketAttribute(150_000).slice(1);

/** The hour item of a batch of INSERTs at sequence numbers first..first+count−1, with inputTokens 1, 10, 100, … */
function hourItemOf(count: number, first = 1): PendingItem {
  const accumulator = new BatchAccumulator();
  for (let index = 1; index <= count; index++)
    accumulator.add(seq(first + index - 1), {
      kind: 'INSERT',
      newRun: runImage({ executionId: `r${index}`, inputTokens: 10 ** (index - 1) }),
      expiredByTtl: false,
    });
  const item = accumulator.pendingItems().find((pending) => pending.granularity === 'hour');
  if (!item) throw new Error('no hour item');
  return item;
}

/** A failed condition with the item's old image: this shard's watermark, a version, a success histogram. */
function conditionFailure(old?: { watermark?: string; version?: string; hs?: string; c?: string }) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item:
      old === undefined
        ? undefined
        : {
            pk: { S: 'x' },
            sk: { S: 'y' },
            ...(old.watermark === undefined ? {} : { [WATERMARK]: { S: old.watermark } }),
            ...(old.version === undefined ? {} : { v: { S: old.version } }),
            ...(old.hs === undefined ? {} : { hs: { S: old.hs } }),
            ...(old.c === undefined ? {} : { c: { S: old.c } }),
          },
  });
}

const sent = (call: number) => dynamodb.commandCalls(UpdateItemCommand)[call]?.args[0].input;
/** The value sent for attribute `name` (an ADD amount or a SET value). */
const valueSent = (call: number, name: string) => {
  const input = sent(call);
  const names = input?.ExpressionAttributeNames ?? {};
  const placeholder = Object.keys(names).find((key) => names[key] === name);
  if (placeholder === undefined) return undefined;
  const expression = input?.UpdateExpression ?? '';
  const match = new RegExp(`${placeholder}(?: = | )(:\\w+)`).exec(expression);
  const value = input?.ExpressionAttributeValues?.[match?.[1] ?? ''];
  return value?.N ?? value?.S;
};

/** The amount sent for counter `name` inside the packed counters `c`. */
const counterSent = (call: number, name: string): string | undefined =>
  (JSON.parse(valueSent(call, 'c') ?? '{}') as Record<string, string>)[name];

describe('applyPendingItem', () => {
  let states: KnownItemStates;
  beforeEach(() => {
    states = new KnownItemStates();
  });
  afterEach(() => dynamodb.reset());

  it('adds the batch, packs its histogram and sets the watermark, on condition that the item saw none of it', async () => {
    dynamodb.on(UpdateItemCommand).resolves({ ConsumedCapacity: { CapacityUnits: 1 } });

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait, states);

    const input = sent(0);
    expect(input?.ConditionExpression).toBe('attribute_not_exists(#v)');
    expect(input?.ExpressionAttributeValues?.[':max']).toEqual({ S: seq(3) });
    expect(input?.ExpressionAttributeNames?.['#wm']).toBe(WATERMARK);
    expect(input?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(counterSent(0, 'si')).toBe('111');
    expect(valueSent(0, 'hs')).toBe(`${BUCKET}:3`);
    expect(valueSent(0, 'hf')).toBeUndefined();
    expect(valueSent(0, 'v')).toMatch(/^[\w-]{12}$/);
    expect(result).toMatchObject({ requests: 1, capacityUnits: 1 });
  });

  it('merges the next batch into the histogram it wrote, on condition of the version it left, with no read', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait, states);

    await applyPendingItem('Aggregates', SHARD, hourItemOf(3, 10), noWait, states);

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(sent(1)?.ConditionExpression).toBe('#v = :version');
    expect(sent(1)?.ExpressionAttributeValues?.[':version']?.S).toBe(valueSent(0, 'v'));
    expect(valueSent(1, 'hs')).toBe(`${BUCKET}:5`);
    expect(counterSent(1, 'si')).toBe('122');
  });

  it('merges into the histogram a failed condition hands back when another writer got there first', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .resolvesOnce({})
      .rejectsOnce(conditionFailure({ watermark: seq(2), version: 'other-writer', hs: `${BUCKET}:2,z:4` }))
      .resolves({});
    await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait, states);

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(1, 10), noWait, states);

    expect(sent(2)?.ConditionExpression).toBe('#v = :version');
    expect(sent(2)?.ExpressionAttributeValues?.[':version']).toEqual({ S: 'other-writer' });
    expect(valueSent(2, 'hs')).toBe(`z:4,${BUCKET}:3`);
    expect(result.requests).toBe(2);
  });

  it('skips a replayed batch when the returned watermark covers it', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure({ watermark: seq(3), version: 'v1' }));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait, states);

    expect(countsNothing(result.applied)).toBe(true);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('never skips records on memory alone: a rebuilt item is asked first', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait, states);

    // The same records again, as after the aggregates were deleted and the stream replayed.
    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait, states);

    expect(sent(1)?.ConditionExpression).toBe('attribute_not_exists(#v)');
    expect(counterSent(1, 'si')).toBe('111');
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(111);
  });

  it('starts over as for a new item when a remembered item turns out to be gone', async () => {
    dynamodb.on(UpdateItemCommand).resolvesOnce({}).rejectsOnce(conditionFailure()).resolves({});
    await applyPendingItem('Aggregates', SHARD, hourItemOf(1), noWait, states);

    await applyPendingItem('Aggregates', SHARD, hourItemOf(2, 10), noWait, states);

    expect(sent(1)?.ConditionExpression).toBe('#v = :version');
    expect(sent(2)?.ConditionExpression).toBe('attribute_not_exists(#v)');
    expect(valueSent(2, 'hs')).toBe(`${BUCKET}:2`);
  });

  it('re-sums and writes only what lies past a watermark that straddles the batch', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailure({ watermark: seq(2), version: 'v1', hs: `${BUCKET}:2`, c: '{"si":"11","sn":"2"}' }),
      )
      .resolves({ ConsumedCapacity: { CapacityUnits: 1 } });

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), noWait, states);

    expect(sent(1)?.ConditionExpression).toBe('#v = :version');
    // The packed counters are written whole: the item's 11 + the new 100.
    expect(counterSent(1, 'si')).toBe('111');
    expect(counterSent(1, 'sn')).toBe('3');
    expect(valueSent(1, 'hs')).toBe(`${BUCKET}:3`);
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(100);
    expect(result.requests).toBe(2);
  });

  it('retries a throttled write and applies it once', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ThrottlingException',
    });
    dynamodb.on(UpdateItemCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({});

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait, states);

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(3);
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(11);
  });

  it('treats a lost response to a write that landed as already applied', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(timeout)
      .rejects(conditionFailure({ watermark: seq(2), version: 'v1' }));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), noWait, states);

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(countsNothing(result.applied)).toBe(true);
  });

  it('still moves the watermark when the contributions cancel out', async () => {
    dynamodb.on(UpdateItemCommand).resolves({});
    const run = runImage();
    const accumulator = new BatchAccumulator();
    accumulator.add(seq(1), { kind: 'INSERT', newRun: run, expiredByTtl: false });
    accumulator.add(seq(2), { kind: 'REMOVE', oldRun: run, expiredByTtl: false });
    const [item] = accumulator.pendingItems();
    if (!item) throw new Error('no item');

    await applyPendingItem('Aggregates', SHARD, item, noWait, states);

    expect(sent(0)?.UpdateExpression).toBe('SET #wm = :max, #v = :next, #c = :c');
    expect(Object.keys(JSON.parse(valueSent(0, 'c') ?? '{}'))).toEqual(['smn', 'smx']);
    expect(sent(0)?.ExpressionAttributeValues?.[':max']).toEqual({ S: seq(2) });
  });

  it('fails the batch when the condition for a new item fails without an item', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure());

    await expect(applyPendingItem('Aggregates', SHARD, hourItemOf(1), noWait, states)).rejects.toThrow(
      /no item was returned/,
    );
  });
});

describe('KnownItemStates', () => {
  const state = (watermark: string) => ({
    version: `v${watermark}`,
    watermark,
    counters: new Map<string, bigint>(),
    histograms: { success: new Map(), failure: new Map() },
  });

  it('forgets the least recently written item first once full', () => {
    const states = new KnownItemStates(2);
    states.set('a', state('1'));
    states.set('b', state('2'));
    states.set('a', state('3')); // written again: now the most recent
    states.set('c', state('4'));

    expect(states.get('b')).toBeUndefined();
    expect(states.get('a')?.watermark).toBe('3');
    expect(states.get('c')?.watermark).toBe('4');
  });
});
