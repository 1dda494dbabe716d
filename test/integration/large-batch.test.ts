/**
 * A full batch (STREAM_BATCH_SIZE records, what the mapping sends at most)
 * of hostile runs on DynamoDB Local, which refuses expressions past 4 KB or
 * 300 operators as DynamoDB does: 1,000 failures of one model in one hour,
 * each with its own error type, duration and minute. One UpdateItem per item
 * would pass both limits; the writer splits the hour and day items' shares
 * over several writes. Every run must be counted once, listed + other =
 * failures, nothing may be refused (no UNWRITTEN entry), and delivering the
 * batch again, whole or as a bisected half, must add nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createAggregateHandler } from '../../functions/aggregate';
import { STREAM_BATCH_SIZE } from '../../functions/domain/stream-batch';
import type { handler as queryHandler } from '../../functions/query';
import { listUnwrittenItems } from '../../functions/store/unwritten-items';
import { type DynamoFixture, startHandlerFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../support/events';
import { runImage, streamRecord } from '../unit/aggregate/runs';

const DAY = '2026-11-03';
const HOUR_START = Date.parse(`${DAY}T09:00:00Z`);
const MODEL = 'large-batch-model';
const SHARD = 'shardId-00000001700000000000-large';

/** 100 code points, 4-byte characters among them, and an id: every run its own type. */
const errorType = (index: number) => `😀"\\${String(index).padStart(5, '0')}${'é😀'.repeat(46)}`;

const records = Array.from({ length: STREAM_BATCH_SIZE }, (_, index) =>
  streamRecord('INSERT', index + 1, {
    newImage: runImage({
      executionId: `large-${index}`,
      model: MODEL,
      status: 'failure',
      errorType: errorType(index),
      startMs: HOUR_START + (index % 60) * 60_000,
      durationMs: 1_000 + index * 997,
    }),
  }),
);

describe('a full batch of hostile runs (DynamoDB Local)', () => {
  let fixture: DynamoFixture;
  let query: typeof queryHandler;
  let aggregate: ReturnType<typeof createAggregateHandler>;

  async function get(path: string, parameters: Record<string, string>) {
    const response = await query(
      httpEvent('GET', path, { query: { from: DAY, to: DAY, ...parameters } }),
      lambdaContext,
    );
    expect(response.statusCode, response.body).toBe(200);
    return JSON.parse(response.body ?? '{}');
  }

  async function counted() {
    const errors = await get('/api/errors', { model: MODEL, limit: '50' });
    const listed = (errors.errors as { count: number }[]).reduce((sum, error) => sum + error.count, 0);
    const rollup = await get('/api/summary', {});
    return {
      failures: errors.totalFailures,
      listedAndOther: listed + errors.other.count,
      allModelsExecutions: rollup.executions,
    };
  }

  beforeAll(async () => {
    ({ fixture, query, aggregate } = await startHandlerFixture());
  }, 60_000);
  afterAll(async () => fixture?.stop());

  it('counts every run once, refuses nothing, and adds nothing on a replay or a bisected retry', async () => {
    const response = await aggregate({ Records: records, shardId: SHARD });

    expect(response.batchItemFailures).toEqual([]);
    expect(await listUnwrittenItems(fixture.client, 'Aggregates', DAY)).toEqual([]);
    const expected = { failures: 1_000, listedAndOther: 1_000, allModelsExecutions: 1_000 };
    expect(await counted()).toEqual(expected);

    await aggregate({ Records: records, shardId: SHARD });
    await aggregate({ Records: records.slice(STREAM_BATCH_SIZE / 2), shardId: SHARD });

    expect(await counted()).toEqual(expected);
  }, 120_000);
});
