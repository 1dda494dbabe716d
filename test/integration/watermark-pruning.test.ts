/**
 * Removing old watermarks on DynamoDB Local (ADR 0001, "Watermarks grow with
 * the shards that wrote an item"): several shards write one hour and one day
 * item through the real aggregate handler, the handler's clock then jumps past
 * the horizon (no sleeping), and a live shard's next write removes the quiet
 * shards' watermarks. The items' counts, extents and the API's quantiles must
 * not move, and the removed watermarks must be gone; two shards removing at
 * once must leave them exact too; and a rebuild that rewrites an item drops
 * the watermarks past the horizon and keeps the young ones.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createAggregateHandler } from '../../functions/aggregate';
import { WATERMARK_HORIZON_SECONDS } from '../../functions/domain/record-age';
import type { handler as queryHandler } from '../../functions/query';
import {
  aggregateKey,
  decodeAggregateItem,
  isWatermarkAttribute,
  OTHER_ERRORS_ATTRIBUTE,
} from '../../functions/store/aggregate-keys';
import { rebuildDay } from '../../functions/store/aggregates-rebuild';
import { type DynamoFixture, startHandlerFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext, runRecord } from '../support/events';
import { runImage, streamRecord } from '../unit/aggregate/runs';

const DAY = '2026-11-01';
const HOUR = `${DAY}T10`;
const START = Date.parse(`${DAY}T10:15:00Z`);
/** The handler's clock when the shards first write (epoch ms). */
const T0 = Date.parse('2026-11-01T11:00:00Z');
/** Past the horizon and any writer's spread of up to 600 s. */
const AFTER_HORIZON = T0 + (WATERMARK_HORIZON_SECONDS + 601) * 1000;

type Handler = ReturnType<typeof createAggregateHandler>;

describe('watermarks past the horizon (DynamoDB Local)', () => {
  let fixture: DynamoFixture;
  let query: typeof queryHandler;
  let aggregate: Handler;
  let clock = T0;
  let sequence = 0;

  /** A batch of `durations.length` runs of `model` on `shard`, one stream record each. */
  async function deliver(shard: string, model: string, durations: readonly number[], failed = false) {
    const records = durations.map((durationMs, index) =>
      streamRecord('INSERT', ++sequence, {
        newImage: runImage({
          executionId: `${shard}-${model}-${sequence}-${index}`,
          model,
          startMs: START + index * 60_000,
          durationMs,
          ...(failed ? { status: 'failure', errorType: 'Timeout' } : {}),
        }),
      }),
    );
    await aggregate({ Records: records, shardId: shard });
  }

  /**
   * A batch whose contributions cancel out (a run inserted then deleted): it
   * writes the items and adds nothing but its duration to the shard's extent
   * (a removed run stays a bound), so `durationMs` lies inside that extent.
   */
  async function deliverNothing(shard: string, model: string, durationMs: number) {
    const run = runImage({ executionId: `cancel-${shard}-${++sequence}`, model, startMs: START, durationMs });
    await aggregate({
      Records: [
        streamRecord('INSERT', sequence, { newImage: run }),
        streamRecord('REMOVE', ++sequence, { oldImage: run }),
      ],
      shardId: shard,
    });
  }

  async function item(granularity: 'hour' | 'day', model: string) {
    const key = aggregateKey(granularity, model, granularity === 'hour' ? HOUR : DAY);
    const output = await fixture.client.send(
      new GetItemCommand({
        TableName: 'Aggregates',
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        ConsistentRead: true,
      }),
    );
    return output.Item ?? {};
  }

  const watermarksOf = (stored: Record<string, unknown>) =>
    Object.keys(stored).filter(isWatermarkAttribute).sort();

  async function summary(model: string) {
    const response = await query(
      httpEvent('GET', '/api/summary', { query: { from: DAY, to: DAY, model } }),
      lambdaContext,
    );
    expect(response.statusCode, response.body).toBe(200);
    return JSON.parse(response.body ?? '{}') as Record<string, unknown>;
  }

  beforeAll(async () => {
    ({ fixture, query, aggregate } = await startHandlerFixture({ now: () => clock }));
  }, 60_000);
  afterAll(async () => fixture?.stop());

  it('removes the quiet shards’ watermarks; counts, extents and quantiles stay', async () => {
    const model = 'prune-one';
    clock = T0;
    // Quiet shards hold the extremes, so losing their extents would move the quantiles.
    await deliver('shardId-quiet-1', model, [1_000, 2_000, 40_000]);
    await deliver('shardId-quiet-2', model, [3_000_000, 3_600_000], true);
    await deliver('shardId-quiet-3', model, [45_000, 50_000]);
    // The live shard writes last, so its write's ALL_NEW shows it every other watermark.
    await deliver('shardId-live', model, [30_000, 60_000, 90_000]);
    const hourBefore = await item('hour', model);
    const dayBefore = await item('day', model);
    const summaryBefore = await summary(model);
    expect(watermarksOf(hourBefore)).toHaveLength(4);

    clock = AFTER_HORIZON;
    await deliverNothing('shardId-live', model, 60_000);

    const hourAfter = await item('hour', model);
    const dayAfter = await item('day', model);
    for (const [before, after] of [
      [hourBefore, hourAfter],
      [dayBefore, dayAfter],
    ] as const) {
      expect(watermarksOf(after)).toEqual(['w:shardId-live']);
      expect(decodeAggregateItem(after)).toEqual(decodeAggregateItem(before));
      expect(after.rx?.S).toBe('1000,50000,3000000,3600000');
    }
    expect(hourAfter['w:shardId-live']?.S).toMatch(new RegExp(`@${Math.floor(AFTER_HORIZON / 1000)};`));
    const summaryAfter = await summary(model);
    expect(summaryAfter).toEqual(summaryBefore);
    expect(summaryAfter).toMatchObject({ executions: 10, failures: 2 });
  });

  it('stays exact when two shards remove watermarks at once', async () => {
    const model = 'prune-race';
    clock = T0;
    await deliver('shardId-old-1', model, [500, 700]);
    await deliver('shardId-old-2', model, [7_200_000], true);
    await deliver('shardId-a', model, [10_000]);
    await deliver('shardId-b', model, [20_000]);
    // Both live shards learn both old watermarks from their last write.
    await deliver('shardId-a', model, [11_000]);
    const before = decodeAggregateItem(await item('hour', model));
    const summaryBefore = await summary(model);

    clock = AFTER_HORIZON;
    // Each also sees the other's watermark, last written before the horizon,
    // as removable: whichever lands first removes it and the old ones, and
    // the other fails on its stale view, then writes its own watermark anew.
    await Promise.all([
      deliverNothing('shardId-a', model, 10_500),
      deliverNothing('shardId-b', model, 20_000),
    ]);

    const hour = await item('hour', model);
    expect(watermarksOf(hour)).toEqual(['w:shardId-a', 'w:shardId-b']);
    // The quiet shards' extents, and those of the live shard that lost the race.
    expect(hour.rx?.S).toMatch(/^500,(11000|20000),7200000,7200000$/);
    expect(decodeAggregateItem(hour)).toEqual(before);
    expect(await summary(model)).toEqual(summaryBefore);

    // And a live shard's next real batch still counts once.
    await deliver('shardId-b', model, [25_000]);
    const after = decodeAggregateItem(await item('hour', model));
    expect(after.byStatus.success.counters.executions).toBe(before.byStatus.success.counters.executions + 1);
  });
  it('has a rebuild drop the watermarks past the horizon and keep the young ones', async () => {
    const model = 'prune-rebuild';
    clock = T0;
    // Runs stored as the ingest stores them, so that the rebuild finds them.
    const { handler: ingest } = await import('../../functions/ingest');
    const executions = [1, 2, 3].map((n) =>
      runRecord({
        executionId: `rebuild-${n}`,
        model,
        status: 'failure',
        errorType: 'Timeout',
        startTime: `${HOUR}:1${n}:00Z`,
        endTime: `${HOUR}:2${n}:00Z`,
      }),
    );
    const posted = await ingest(
      httpEvent('POST', '/api/executions', { body: JSON.stringify({ executions }) }),
      lambdaContext,
    );
    expect(posted.statusCode, posted.body).toBeLessThan(300);
    const records = (await fixture.readStream())
      .flatMap((shard) => shard.records)
      .filter((record) => record.dynamodb?.NewImage?.model?.S === model);
    expect(records).toHaveLength(3);
    await aggregate({ Records: records.slice(0, 2), shardId: 'shardId-rebuild-old' });
    clock = AFTER_HORIZON;
    // This shard's first write to the item: it has seen no other watermark, so it removes none.
    await aggregate({ Records: records.slice(2), shardId: 'shardId-rebuild-young' });
    const key = aggregateKey('hour', model, HOUR);
    // Damaged by hand: one failure too many in `other`.
    await fixture.client.send(
      new UpdateItemCommand({
        TableName: 'Aggregates',
        Key: { pk: { S: key.pk }, sk: { S: key.sk } },
        UpdateExpression: 'ADD #other :one',
        ExpressionAttributeNames: { '#other': OTHER_ERRORS_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    expect(watermarksOf(await item('hour', model))).toEqual([
      'w:shardId-rebuild-old',
      'w:shardId-rebuild-young',
    ]);

    await rebuildDay(
      {
        client: fixture.client,
        executionsTable: 'Executions',
        aggregatesTable: 'Aggregates',
        days: [DAY],
        settleMs: 0,
        rounds: 3,
        sleep: async () => undefined,
        now: () => clock,
      },
      DAY,
    );

    const hour = await item('hour', model);
    expect(hour.rb?.S).toBeDefined();
    expect(watermarksOf(hour)).toEqual(['w:shardId-rebuild-young']);
    expect(await summary(model)).toMatchObject({ executions: 3, failures: 3 });
  });
});
