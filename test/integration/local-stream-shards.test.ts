/**
 * The local runtime with its stream as 4 shards (`--stream-shards 4`) on
 * DynamoDB Local: runs of the same few hours land on every shard, each shard's
 * poller invokes the real aggregate handler concurrently with the others, and
 * the handler fails as Lambda may see it fail (an error before any write, so
 * the batch is bisected; the writes made and the answer lost, so records
 * already applied come again). Shards close every 25 records and hand over to
 * a child. The aggregates must equal the runs in the table, exactly.
 */
import { describe, expect, it } from 'vitest';
import type { StreamHandler } from '../../local/stream-event';
import { shardIndexForKey } from '../../local/stream-shards';
import { postWithRetry } from '../reliability/lib/http';
import { runPool } from '../reliability/lib/load';
import { makeRun, runId } from '../reliability/lib/runs';
import { comparable, dynamoClient, settleAggregates } from '../reliability/lib/truth';
import { useTestRuntime } from '../support/test-runtime';

const RUNS = 400;
const CORRECTED = 60;
const SHARDS = 4;

/** Faults fired, by kind, so the test shows it exercised them. */
const fired = { beforeWrites: 0, lostAnswer: 0 };
const failedBatches = new Set<string>();

/**
 * Fails each batch that holds a chosen run once: runs whose index is 0 mod 13
 * throw before the handler writes; runs 5 mod 17 let it write, then lose its answer.
 */
function injectFaults(handler: StreamHandler): StreamHandler {
  return async (event) => {
    const ids = event.Records.map((record) => record.dynamodb?.Keys?.executionId?.S ?? '');
    const key = `${event.shardId}:${ids.join(',')}`;
    const index = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
    const firstTime = !failedBatches.has(key);
    if (firstTime && ids.some((id) => index(id) % 13 === 0)) {
      failedBatches.add(key);
      fired.beforeWrites++;
      throw new Error('injected failure before any write');
    }
    const result = await handler(event);
    if (firstTime && ids.some((id) => index(id) % 17 === 5)) {
      failedBatches.add(key);
      fired.lostAnswer++;
      throw new Error('injected lost answer after the writes');
    }
    return result;
  };
}

describe('the local stream as 4 shards', () => {
  const system = useTestRuntime({
    streamShards: SHARDS,
    recordsPerStreamShard: 25,
    poller: { retryBackoffMs: 5, batchingWindowMs: 20 },
    wrapAggregateHandler: injectFaults,
  });

  it('aggregates runs spread over shards exactly once through bisection, replays and shard handovers', async () => {
    // Arrange: runs within 6 hours, so every hour item is written from every shard; then corrections.
    const { runtime, http } = system;
    const deadlineMs = Date.now() + 120_000;
    await runPool(RUNS, 8, async (index) => {
      const { answer } = await postWithRetry(http, makeRun('shards', index, 0, { hours: 6 }), { deadlineMs });
      expect(answer.status).toBeLessThan(300);
    });
    await runPool(CORRECTED, 8, async (index) => {
      const { answer } = await postWithRetry(http, makeRun('shards', index * 3, 1, { hours: 6 }), {
        deadlineMs,
      });
      expect(answer.status).toBeLessThan(300);
    });

    // Act
    await runtime.poller.waitUntilCaughtUp(120_000);
    const dynamo = dynamoClient(runtime.dynamoEndpoint);
    const { truth, api } = await settleAggregates(http, dynamo, { timeoutMs: 30_000 });
    dynamo.destroy();

    // Assert: exact totals, nothing dead-lettered, and the shards really were several, with lineage.
    expect(truth.executions).toBe(RUNS);
    expect(comparable(api)).toEqual(comparable(truth));
    const status = runtime.poller.status();
    expect(status.deadLetterCount).toBe(0);
    expect(status.bisections).toBeGreaterThan(0);
    expect(fired.beforeWrites).toBeGreaterThan(0);
    expect(fired.lostAnswer).toBeGreaterThan(0);
    const lanes = new Set(status.shards.map((shard) => /-(\d+)of4$/.exec(shard.shardId)?.[1]));
    expect(lanes).toEqual(new Set(['0', '1', '2', '3']));
    expect(status.shards.filter((shard) => shard.parentShardId).length).toBeGreaterThanOrEqual(SHARDS);
    const perLane = [0, 0, 0, 0];
    for (let index = 0; index < RUNS; index++) {
      const lane = shardIndexForKey(runId('shards', index), SHARDS);
      perLane[lane] = (perLane[lane] ?? 0) + 1;
    }
    for (const count of perLane) expect(count).toBeGreaterThan(50);
  }, 300_000);
});
