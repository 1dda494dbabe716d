import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchAccumulator, countsNothing, type PendingItem } from '../../../functions/domain/deltas';
import { MAX_ERROR_TYPES_PER_ITEM } from '../../../functions/domain/error-counts';
import { MAX_RECORD_AGE_SECONDS, WATERMARK_HORIZON_SECONDS } from '../../../functions/domain/record-age';
import { bucketAttribute } from '../../../functions/domain/sketch';
import { decodeAggregateItem } from '../../../functions/store/aggregate-keys';
import { applyPendingItem, KnownItemStates } from '../../../functions/store/aggregates-store';
import type { RunImage } from '../../../functions/store/run-item';
import { FakeAggregatesTable } from './fake-aggregates';
import { runImage } from './runs';

const dynamodb = mockClient(DynamoDBClient);
const SHARD = 'shardId-00000001700000000000-aaaaaaaa';
const OTHER_SHARD = 'shardId-00000001700000000000-bbbbbbbb';
const WATERMARK = `w:${SHARD}`;
const noWait = { attempts: 3, sleep: async () => undefined };
const seq = (n: number) => String(n).padStart(40, '0');
/** The clock of every write below (epoch seconds), unless a test moves it. */
const NOW = 1_764_000_000;
/** The histogram attribute of the runs' duration bucket (every run below lasts 150 s). */
const BUCKET = `sh${bucketAttribute(150_000).slice(1)}`;

/** The model's hour item of a batch of INSERTs of `runs`, at sequence numbers first, first+1, … */
function hourItemOfRuns(runs: readonly Partial<RunImage>[], first = 1): PendingItem {
  const accumulator = new BatchAccumulator();
  runs.forEach((run, index) => {
    accumulator.add(seq(first + index), { kind: 'INSERT', newRun: runImage(run), expiredByTtl: false });
  });
  const item = accumulator.pendingItems().find((pending) => pending.granularity === 'hour' && pending.model);
  if (!item) throw new Error('no hour item');
  return item;
}

/** The hour item of a batch of INSERTs at sequence numbers first..first+count−1, with inputTokens 1, 10, 100, … */
function hourItemOf(count: number, first = 1, errorTypes?: (index: number) => string): PendingItem {
  return hourItemOfRuns(
    Array.from({ length: count }, (_, offset) => ({
      executionId: `r${first + offset + 1}`,
      inputTokens: 10 ** offset,
      ...(errorTypes ? { status: 'failure' as const, errorType: errorTypes(offset + 1) } : {}),
    })),
    first,
  );
}

/** A failed condition with the item's old image. */
function conditionFailure(old?: Record<string, { S: string } | { N: string }>) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: old === undefined ? undefined : { pk: { S: 'x' }, sk: { S: 'y' }, ...old },
  });
}

const sent = (call: number) => dynamodb.commandCalls(UpdateItemCommand)[call]?.args[0].input;
/** The value sent for attribute `name` (an ADD amount or a SET value). */
const valueSent = (call: number, name: string) => {
  const input = sent(call);
  const names = input?.ExpressionAttributeNames ?? {};
  const placeholder = Object.keys(names).find((key) => names[key] === name);
  if (placeholder === undefined) return undefined;
  const match = new RegExp(`${placeholder}(?: = | )(:\\w+)`).exec(input?.UpdateExpression ?? '');
  const value = input?.ExpressionAttributeValues?.[match?.[1] ?? ''];
  return value?.N ?? value?.S;
};
/** The condition with attribute names in place of their placeholders. */
const conditionSent = (call: number) => {
  const input = sent(call);
  let condition = input?.ConditionExpression ?? '';
  for (const [placeholder, name] of Object.entries(input?.ExpressionAttributeNames ?? {}))
    condition = condition.replaceAll(new RegExp(`${placeholder}(?!\\w)`, 'g'), name);
  for (const [placeholder, value] of Object.entries(input?.ExpressionAttributeValues ?? {}))
    condition = condition.replaceAll(new RegExp(`${placeholder}(?!\\w)`, 'g'), value.S ?? value.N ?? '');
  return condition;
};

describe('applyPendingItem', () => {
  let states: KnownItemStates;
  let table: FakeAggregatesTable;
  const onTable = () =>
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => table.update(input));
  beforeEach(() => {
    states = new KnownItemStates();
    table = new FakeAggregatesTable();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW * 1000);
  });
  afterEach(() => {
    dynamodb.reset();
    vi.useRealTimers();
  });

  it('ADDs the batch and sets the watermark, on condition that this shard has not written the item', async () => {
    onTable();

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), {
      retry: noWait,
      states: states,
    });

    expect(conditionSent(0)).toBe(`attribute_not_exists(${WATERMARK})`);
    expect(sent(0)?.UpdateExpression).toMatch(/^SET .* ADD /);
    expect(sent(0)?.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(valueSent(0, 'si')).toBe('111');
    expect(valueSent(0, BUCKET)).toBe('3');
    expect(valueSent(0, WATERMARK)).toBe(`${seq(3)}@${NOW};150000,150000,,`);
    expect(valueSent(0, 'v')).toMatch(/^[\w-]{12}$/);
    expect(result).toMatchObject({ requests: 1, capacityUnits: 1 });
  });

  it('ADDs only the next batch, on condition of the watermark it left, with no read', async () => {
    onTable();
    await applyPendingItem('Aggregates', SHARD, hourItemOf(2), { retry: noWait, states: states });

    await applyPendingItem('Aggregates', SHARD, hourItemOf(3, 10), { retry: noWait, states: states });

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(conditionSent(1)).toBe(`${WATERMARK} = ${seq(2)}@${NOW};150000,150000,,`);
    expect(valueSent(1, 'si')).toBe('111');
    const stored = decodeAggregateItem(table.items.values().next().value ?? {});
    expect(stored.byStatus.success.counters.inputTokens).toBe(122);
    expect(stored.byStatus.success.histogram.get(bucketAttribute(150_000))).toBe(5);
  });

  it('never fails for another shard’s writes: concurrent shards’ ADDs commute', async () => {
    onTable();
    const otherStates = new KnownItemStates();
    for (let batch = 0; batch < 4; batch++) {
      await applyPendingItem('Aggregates', SHARD, hourItemOf(2, 10 * batch + 1), {
        retry: noWait,
        states: states,
      });
      await applyPendingItem('Aggregates', OTHER_SHARD, hourItemOf(3, 10 * batch + 1), {
        retry: noWait,
        states: otherStates,
      });
    }

    expect(table.updates).toBe(8);
    const stored = decodeAggregateItem(table.items.values().next().value ?? {});
    expect(stored.byStatus.success.counters.executions).toBe(20);
    expect(stored.byStatus.success.counters.inputTokens).toBe(4 * 11 + 4 * 111);
  });

  it('skips a replayed batch when the returned watermark covers it', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure({ [WATERMARK]: { S: seq(3) } }));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), {
      retry: noWait,
      states: states,
    });

    expect(countsNothing(result.applied)).toBe(true);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  it('never skips records on memory alone: a rebuilt item is asked first', async () => {
    dynamodb.on(UpdateItemCommand).resolves({ Attributes: { [WATERMARK]: { S: seq(3) } } });
    await applyPendingItem('Aggregates', SHARD, hourItemOf(3), { retry: noWait, states: states });

    // The same records again, as after the aggregates were deleted and the stream replayed.
    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), {
      retry: noWait,
      states: states,
    });

    expect(conditionSent(1)).toBe(`attribute_not_exists(${WATERMARK})`);
    expect(valueSent(1, 'si')).toBe('111');
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(111);
  });

  it('starts over as for a new item when a remembered item turns out to be gone', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: { [WATERMARK]: { S: seq(1) } } })
      .rejectsOnce(conditionFailure())
      .resolves({});
    await applyPendingItem('Aggregates', SHARD, hourItemOf(1), { retry: noWait, states: states });

    await applyPendingItem('Aggregates', SHARD, hourItemOf(2, 10), { retry: noWait, states: states });

    expect(conditionSent(1)).toBe(`${WATERMARK} = ${seq(1)}`);
    expect(conditionSent(2)).toBe(`attribute_not_exists(${WATERMARK})`);
    expect(valueSent(2, BUCKET)).toBe('2');
  });

  it('ADDs only what lies past a watermark that straddles the batch, and keeps the shard’s extent', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailure({ [WATERMARK]: { S: `${seq(2)};1000,150000,,` }, si: { N: '11' } }))
      .resolves({ ConsumedCapacity: { CapacityUnits: 1 } });

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(3), {
      retry: noWait,
      states: states,
    });

    expect(conditionSent(1)).toBe(`${WATERMARK} = ${seq(2)};1000,150000,,`);
    expect(valueSent(1, 'si')).toBe('100');
    expect(valueSent(1, 'sn')).toBe('1');
    expect(valueSent(1, WATERMARK)).toBe(`${seq(3)}@${NOW};1000,150000,,`);
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(100);
    expect(result.requests).toBe(2);
  });

  it('retries a throttled write and applies it once', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ThrottlingException',
    });
    dynamodb.on(UpdateItemCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({});

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), {
      retry: noWait,
      states: states,
    });

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(3);
    expect(result.applied.byStatus.success.counters.inputTokens).toBe(11);
  });

  it('treats a lost response to a write that landed as already applied', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    dynamodb
      .on(UpdateItemCommand)
      .rejectsOnce(timeout)
      .rejects(conditionFailure({ [WATERMARK]: { S: seq(2) } }));

    const result = await applyPendingItem('Aggregates', SHARD, hourItemOf(2), {
      retry: noWait,
      states: states,
    });

    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(2);
    expect(countsNothing(result.applied)).toBe(true);
  });

  it('still moves the watermark when the contributions cancel out', async () => {
    onTable();
    const run = runImage();
    const accumulator = new BatchAccumulator();
    accumulator.add(seq(1), { kind: 'INSERT', newRun: run, expiredByTtl: false });
    accumulator.add(seq(2), { kind: 'REMOVE', oldRun: run, expiredByTtl: false });
    const [item] = accumulator.pendingItems();
    if (!item) throw new Error('no item');

    await applyPendingItem('Aggregates', SHARD, item, { retry: noWait, states: states });

    expect(sent(0)?.UpdateExpression).not.toContain('ADD');
    expect(valueSent(0, WATERMARK)).toBe(`${seq(2)}@${NOW};150000,150000,,`);
  });

  it('fails the batch when the condition for a new item fails without an item', async () => {
    dynamodb.on(UpdateItemCommand).rejects(conditionFailure());

    await expect(
      applyPendingItem('Aggregates', SHARD, hourItemOf(1), { retry: noWait, states: states }),
    ).rejects.toThrow(/no item was returned/);
  });

  it('lists a new error type once when two shards bring it at once, with no failed write', async () => {
    onTable();
    const otherStates = new KnownItemStates();
    await applyPendingItem(
      'Aggregates',
      SHARD,
      hourItemOf(2, 1, () => 'Timeout'),
      { retry: noWait, states: states },
    );

    // The other shard does not know the type is listed: it lists it too, which adds its id once.
    const result = await applyPendingItem(
      'Aggregates',
      OTHER_SHARD,
      hourItemOf(3, 1, () => 'Timeout'),
      { retry: noWait, states: otherStates },
    );

    expect(result.requests).toBe(1);
    expect(conditionSent(1)).toContain('size(et) <= 49');
    const stored = table.items.values().next().value ?? {};
    expect(stored['e:Timeout']).toEqual({ N: '5' });
    expect(stored.et?.SS).toHaveLength(1);
    expect(stored.eo).toBeUndefined();
  });

  it('learns a full cap from the failed write and counts a new type in other', async () => {
    onTable();
    const otherStates = new KnownItemStates();
    for (let batch = 0; batch < 5; batch++)
      await applyPendingItem(
        'Aggregates',
        SHARD,
        hourItemOf(10, 100 * batch + 1, (index) => `E${batch}-${index}`),
        { retry: noWait, states: states },
      );

    const result = await applyPendingItem(
      'Aggregates',
      OTHER_SHARD,
      hourItemOf(1, 1, () => 'Late'),
      { retry: noWait, states: otherStates },
    );

    expect(result.requests).toBe(2);
    expect(conditionSent(6)).toContain('attribute_not_exists(e:Late)');
    const stored = table.items.values().next().value ?? {};
    expect(stored['e:Late']).toBeUndefined();
    expect(stored.eo).toEqual({ N: '1' });
  });

  it('lists at most the cap of error types and counts the rest in other, listed + other = failures', async () => {
    onTable();
    const shards = [SHARD, OTHER_SHARD];
    const shardStates = [states, new KnownItemStates()];
    let failures = 0;
    for (let batch = 0; batch < 12; batch++) {
      const shard = batch % 2;
      await applyPendingItem(
        'Aggregates',
        shards[shard] ?? SHARD,
        hourItemOf(9, 100 * batch + 1, (index) => `E${batch}-${index}`),
        { retry: noWait, states: shardStates[shard] },
      );
      failures += 9;
    }

    const stored = table.items.values().next().value ?? {};
    const decoded = decodeAggregateItem(stored);
    expect(decoded.errors.size).toBe(MAX_ERROR_TYPES_PER_ITEM);
    expect(stored.et?.SS).toHaveLength(MAX_ERROR_TYPES_PER_ITEM);
    const listed = [...decoded.errors.values()].reduce((sum, count) => sum + count, 0);
    expect(listed + decoded.otherErrors).toBe(failures);
    expect(decoded.byStatus.failure.counters.failures).toBe(failures);
  });
});

describe('applyPendingItem: a batch too large for one expression', () => {
  const HOUR_START = Date.parse('2026-11-01T10:00:00Z');
  /** 1,000 failed runs in one hour, each with its own long error type, duration and minute: a hostile batch. */
  const hostileItem = () =>
    hourItemOfRuns(
      Array.from({ length: 1_000 }, (_, offset) => ({
        executionId: `h${offset + 1}`,
        status: 'failure' as const,
        errorType: `HTTPError 502 from https://ci.example.com/job/${offset + 1}/log?attempt=4`,
        startMs: HOUR_START + ((offset + 1) % 60) * 60_000,
        durationMs: 1_000 + (offset + 1) * 997,
      })),
    );
  let table: FakeAggregatesTable;
  beforeEach(() => {
    table = new FakeAggregatesTable();
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => table.update(input));
  });
  afterEach(() => dynamodb.reset());

  const failuresOf = () => {
    const decoded = decodeAggregateItem(table.items.values().next().value ?? {});
    const listed = [...decoded.errors.values()].reduce((sum, count) => sum + count, 0);
    return {
      failures: decoded.byStatus.failure.counters.failures,
      listedAndOther: listed + decoded.otherErrors,
    };
  };

  it('is refused by the table when sent as one write', () => {
    const item = hostileItem();
    // The fake table refuses what DynamoDB refuses: the batch as one write passes a limit.
    expect(() =>
      table.update({
        TableName: 'Aggregates',
        Key: { pk: { S: 'p' }, sk: { S: 's' } },
        UpdateExpression: 'SET #w = :w',
        ConditionExpression: item.contributions
          .map((_, index) => `attribute_not_exists(#${index.toString(36)})`)
          .join(' AND '),
      }),
    ).toThrow(/maximum allowed size|too many operators/);
  });

  it('splits it into writes that each fit, counting every run once', async () => {
    const item = hostileItem();

    const result = await applyPendingItem('Aggregates', SHARD, item, {
      retry: noWait,
      states: new KnownItemStates(),
    });

    expect(result.rejected).toBeUndefined();
    expect(result.requests).toBeGreaterThan(1);
    expect(result.requests).toBe(table.updates);
    expect(result.applied.byStatus.failure.counters.failures).toBe(1_000);
    expect(failuresOf()).toEqual({ failures: 1_000, listedAndOther: 1_000 });
    // The last write's watermark is the batch's last record.
    expect(table.items.values().next().value?.[WATERMARK]?.S).toMatch(new RegExp(`^${seq(1_000)}@`));
  });

  it('adds nothing when the batch is delivered again, whole or as a bisected half, by any container', async () => {
    const item = hostileItem();
    await applyPendingItem('Aggregates', SHARD, item, { retry: noWait, states: new KnownItemStates() });

    const replay = await applyPendingItem('Aggregates', SHARD, item, {
      retry: noWait,
      states: new KnownItemStates(),
    });
    const half = hostileItem();
    half.contributions.splice(0, 500);
    const bisected = await applyPendingItem('Aggregates', SHARD, half, {
      retry: noWait,
      states: new KnownItemStates(),
    });

    expect(countsNothing(replay.applied)).toBe(true);
    expect(countsNothing(bisected.applied)).toBe(true);
    expect(failuresOf()).toEqual({ failures: 1_000, listedAndOther: 1_000 });
  });

  it('resumes after the part that landed when the invocation fails between two writes', async () => {
    const item = hostileItem();
    let writes = 0;
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      if (++writes === 3) throw Object.assign(new Error('internal'), { name: 'InternalServerError' });
      return table.update(input);
    });
    await expect(
      applyPendingItem('Aggregates', SHARD, item, { retry: { attempts: 1 }, states: new KnownItemStates() }),
    ).rejects.toThrow('internal');
    const partial = failuresOf().failures;

    // Lambda's retry of the batch, in a new container.
    const retried = await applyPendingItem('Aggregates', SHARD, item, {
      retry: noWait,
      states: new KnownItemStates(),
    });

    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(1_000);
    expect(retried.applied.byStatus.failure.counters.failures).toBe(1_000 - partial);
    expect(failuresOf()).toEqual({ failures: 1_000, listedAndOther: 1_000 });
  });
});

describe('applyPendingItem: removing watermarks past the horizon', () => {
  const THIRD_SHARD = 'shardId-00000001700000000000-cccccccc';
  const FOURTH_SHARD = 'shardId-00000001700000000000-dddddddd';
  /** Past the horizon and any writer's spread (up to 600 s) after NOW. */
  const LATER = NOW + WATERMARK_HORIZON_SECONDS + 601;
  let table: FakeAggregatesTable;
  let nowSeconds: number;
  const clock = () => nowSeconds * 1000;
  /** One writer per shard, each with its own memory, as separate containers are. */
  const writers = new Map<string, KnownItemStates>();
  const write = (shard: string, item: PendingItem) => {
    const states = writers.get(shard) ?? new KnownItemStates();
    writers.set(shard, states);
    return applyPendingItem('Aggregates', shard, item, { retry: noWait, states: states, now: clock });
  };
  const stored = () => table.items.values().next().value ?? {};
  /** A failed-run hour item of `count` runs at sequences first.., lasting durationMs each. */
  const failedItemOf = (count: number, first: number, durationMs: number) =>
    hourItemOfRuns(
      Array.from({ length: count }, (_, index) => ({
        executionId: `f${first + index}`,
        status: 'failure' as const,
        errorType: 'Timeout',
        durationMs,
      })),
      first,
    );

  beforeEach(() => {
    table = new FakeAggregatesTable();
    writers.clear();
    nowSeconds = NOW;
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => table.update(input));
  });
  afterEach(() => dynamodb.reset());

  it('stamps its own watermark with the write time', async () => {
    await write(SHARD, hourItemOf(1));

    expect(stored()[WATERMARK]?.S).toBe(`${seq(1)}@${NOW};150000,150000,,`);
  });

  it('removes another shard’s watermark past the horizon, its extents folded into rx, on condition of both', async () => {
    await write(OTHER_SHARD, failedItemOf(2, 1, 7_000));
    await write(SHARD, hourItemOf(2, 10));
    const before = decodeAggregateItem(stored());
    const otherMark = stored()[`w:${OTHER_SHARD}`]?.S;

    nowSeconds = LATER;
    const result = await write(SHARD, hourItemOf(1, 20));

    expect(sent(2)?.UpdateExpression).toMatch(/ REMOVE #\w+ ADD /);
    expect(conditionSent(2)).toBe(
      `${WATERMARK} = ${seq(11)}@${NOW};150000,150000,, AND w:${OTHER_SHARD} = ${otherMark} AND attribute_not_exists(rx)`,
    );
    expect(valueSent(2, 'rx')).toBe(',,7000,7000');
    expect(stored()[`w:${OTHER_SHARD}`]).toBeUndefined();
    expect(stored()[WATERMARK]?.S).toBe(`${seq(20)}@${LATER};150000,150000,,`);
    const after = decodeAggregateItem(stored());
    expect(after.byStatus.failure).toEqual(before.byStatus.failure);
    expect(after.errors).toEqual(before.errors);
    expect(after.byStatus.success.counters.executions).toBe(3);
    expect(result.requests).toBe(1);
  });

  it('keeps a watermark within the horizon, and one without a time whatever its age', async () => {
    await write(OTHER_SHARD, hourItemOf(1));
    table.update({
      TableName: 'Aggregates',
      Key: { pk: stored().pk ?? { S: '' }, sk: stored().sk ?? { S: '' } },
      UpdateExpression: 'SET #w = :w',
      ExpressionAttributeNames: { '#w': `w:${THIRD_SHARD}` },
      ExpressionAttributeValues: { ':w': { S: `${seq(5)};1,2,,` } },
    });
    await write(SHARD, hourItemOf(1, 10));

    nowSeconds = NOW + MAX_RECORD_AGE_SECONDS + 60;
    await write(SHARD, hourItemOf(1, 20));
    nowSeconds = NOW + 10 * WATERMARK_HORIZON_SECONDS;
    await write(SHARD, hourItemOf(1, 30));

    expect(sent(2)?.UpdateExpression).not.toContain('REMOVE');
    expect(stored()[`w:${OTHER_SHARD}`]).toBeUndefined();
    expect(stored()[`w:${THIRD_SHARD}`]?.S).toBe(`${seq(5)};1,2,,`);
  });

  it('does not remove a watermark whose shard wrote again since it was read', async () => {
    await write(OTHER_SHARD, failedItemOf(1, 1, 5_000));
    await write(SHARD, hourItemOf(1, 10));
    nowSeconds = LATER;
    await write(OTHER_SHARD, failedItemOf(1, 2, 9_000)); // young again, unknown to SHARD

    const result = await write(SHARD, hourItemOf(1, 20));

    expect(result.requests).toBe(2); // the first attempt failed on the other watermark
    expect(sent(3)?.UpdateExpression).toContain('REMOVE');
    expect(sent(4)?.UpdateExpression).not.toContain('REMOVE');
    expect(stored()[`w:${OTHER_SHARD}`]?.S).toBe(`${seq(2)}@${LATER};,,5000,9000`);
    expect(stored().rx).toBeUndefined();
    const decoded = decodeAggregateItem(stored());
    expect(decoded.byStatus.success.counters.executions).toBe(2);
    expect(decoded.byStatus.failure.counters.executions).toBe(2);
  });

  it('keeps counts and extents exact when two writers remove watermarks at once', async () => {
    // Two shards that went quiet, with their own extents.
    await write(THIRD_SHARD, failedItemOf(1, 1, 3_000));
    await write(FOURTH_SHARD, failedItemOf(1, 1, 80_000));
    // Two live writers, both of which see them.
    await write(SHARD, hourItemOf(1, 10));
    await write(OTHER_SHARD, hourItemOf(1, 10));
    const before = decodeAggregateItem(stored());

    nowSeconds = LATER;
    // Both act on what their last write returned: the first removes both old
    // watermarks; the second's removal and fold are stale and must not land.
    const first = await write(SHARD, hourItemOf(1, 20));
    const second = await write(OTHER_SHARD, hourItemOf(1, 20));

    expect(first.requests).toBe(1);
    expect(second.requests).toBe(2);
    expect(
      Object.keys(stored())
        .filter((name) => name.startsWith('w:'))
        .sort(),
    ).toEqual([WATERMARK, `w:${OTHER_SHARD}`].sort());
    expect(stored().rx?.S).toBe(',,3000,80000');
    const after = decodeAggregateItem(stored());
    expect(after.byStatus.failure).toEqual(before.byStatus.failure);
    expect(after.byStatus.success.counters.executions).toBe(4);
    expect(after.byStatus.success.extent).toEqual(before.byStatus.success.extent);
  });

  it('keeps the other writer’s fold when both fold into rx from the same value', async () => {
    await write(THIRD_SHARD, failedItemOf(1, 1, 3_000));
    await write(SHARD, hourItemOf(1, 10));
    nowSeconds = NOW + 100;
    await write(FOURTH_SHARD, failedItemOf(1, 1, 80_000));
    await write(OTHER_SHARD, hourItemOf(1, 10));
    // SHARD saw only THIRD's watermark; OTHER saw both. At LATER + 100 both
    // are past for OTHER, only THIRD's for SHARD.
    nowSeconds = LATER + 100;
    await write(SHARD, hourItemOf(1, 20)); // removes THIRD, rx = its extents
    const second = await write(OTHER_SHARD, hourItemOf(1, 20)); // stale on THIRD and rx

    expect(second.requests).toBe(2);
    expect(stored().rx?.S).toBe(',,3000,80000');
    expect(Object.keys(stored()).filter((name) => name.startsWith('w:'))).toHaveLength(2);
  });
});

describe('KnownItemStates', () => {
  const state = (watermark: string) => ({ watermark, listed: new Set<string>(), listedCount: 0, others: [] });

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
