import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { WindowedStreamEvent } from '../../../local/stream-event';
import { StreamPoller } from '../../../local/stream-poller';
import {
  claimStreamLayout,
  ShardedStream,
  shardIndexForKey,
  virtualShardId,
} from '../../../local/stream-shards';
import { FakeStream, fakeStreamArn, idsOf, recordingHandler } from './fake-stream';

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

const laneOf = (shardId: string) => Number(/-(\d+)of\d+$/.exec(shardId)?.[1]);
const generationOf = (shardId: string) => Number(/^shardId-(\d+)-/.exec(shardId)?.[1]);

const pollers: StreamPoller[] = [];
function startPoller(streams: ShardedStream, handler: (event: WindowedStreamEvent) => Promise<unknown>) {
  const poller = new StreamPoller({
    streams,
    streamArn: fakeStreamArn,
    handler: handler as never,
    batchSize: 10,
    batchingWindowMs: 5,
    retryBackoffMs: 1,
    idlePollMaxMs: 10,
    shardDiscoveryIntervalMs: 20,
  });
  pollers.push(poller);
  poller.start();
  return poller;
}

function shardedStream(source: FakeStream, shardCount: number, recordsPerShard: number) {
  return new ShardedStream({
    source,
    streamArn: fakeStreamArn,
    shardCount,
    partitionKeyName: 'executionId',
    recordsPerShard,
  });
}

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop({ abandonInFlight: true })));
});

describe('shardIndexForKey', () => {
  it('puts a key on one shard in range, always the same, and spreads keys over all shards', () => {
    const counts = [0, 0, 0, 0];
    for (const key of ids('run-', 4_000)) {
      const index = shardIndexForKey(key, 4);
      expect(index).toBe(shardIndexForKey(key, 4));
      counts[index] = (counts[index] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(shardIndexForKey('ü-😀', 1)).toBe(0);
  });
});

describe('ShardedStream', () => {
  it('lists N shards, each closing after recordsPerShard records with a child that names it', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    source.put('real-1', ids('run-', 60));
    const stream = shardedStream(source, 4, 5);

    const { StreamDescription } = await stream.describeStream({ StreamArn: fakeStreamArn });
    const shards = StreamDescription?.Shards ?? [];
    const lanes = new Set(shards.map((shard) => laneOf(shard.ShardId ?? '')));
    expect(lanes).toEqual(new Set([0, 1, 2, 3]));
    for (const shard of shards) {
      const id = shard.ShardId ?? '';
      const generation = generationOf(id);
      if (generation === 0) expect(shard.ParentShardId).toBeUndefined();
      else expect(shard.ParentShardId).toBe(virtualShardId(laneOf(id), generation - 1, 4));
      const closed = shards.some((other) => other.ParentShardId === id);
      expect(shard.SequenceNumberRange?.EndingSequenceNumber !== undefined).toBe(closed);
    }
    expect(shards.length).toBeGreaterThan(4 + 4); // 60 records, 5 per shard: every lane has closed some
  });

  it('delivers every record once, each on the shard of its key, in order within the shard, children after parents', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    const sent = ids('run-', 150);
    source.put('real-1', sent.slice(0, 90));
    const stream = shardedStream(source, 4, 7);
    // Concurrent invocations, one per shard, as Lambda runs them.
    const log: { shardId: string; ids: string[]; at: number }[] = [];
    let clock = 0;
    const { handler, succeeded } = recordingHandler(async (event) => {
      await new Promise((done) => setTimeout(done, 1));
      log.push({ shardId: event.shardId, ids: idsOf(event) as string[], at: clock++ });
      return { batchItemFailures: [] };
    });
    const poller = startPoller(stream, handler);
    await poller.waitUntilCaughtUp(10_000);
    source.put('real-1', sent.slice(90));
    await poller.waitUntilCaughtUp(10_000);

    expect([...succeeded].sort()).toEqual([...sent].sort());
    const byLane = new Map<number, string[]>();
    for (const entry of log) {
      for (const id of entry.ids) expect(shardIndexForKey(id, 4)).toBe(laneOf(entry.shardId));
      byLane.set(laneOf(entry.shardId), [...(byLane.get(laneOf(entry.shardId)) ?? []), ...entry.ids]);
    }
    // Per shard (lane), in the order the table wrote them.
    for (const [lane, laneIds] of byLane) {
      expect(laneIds).toEqual(sent.filter((id) => shardIndexForKey(id, 4) === lane));
    }
    // A child's first batch comes after its parent's last one.
    const shardIds = new Set(log.map((entry) => entry.shardId));
    for (const shardId of shardIds) {
      const generation = generationOf(shardId);
      if (generation === 0) continue;
      const parent = virtualShardId(laneOf(shardId), generation - 1, 4);
      const firstChild = Math.min(
        ...log.filter((entry) => entry.shardId === shardId).map((entry) => entry.at),
      );
      const lastParent = Math.max(
        ...log.filter((entry) => entry.shardId === parent).map((entry) => entry.at),
      );
      expect(firstChild).toBeGreaterThan(lastParent);
    }
    expect(poller.status().shards.some((shard) => shard.parentShardId !== undefined)).toBe(true);
  });

  it('keeps per-shard order and exactly-once success through errors, bisection and partial failures', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    const sent = ids('run-', 120);
    source.put('real-1', sent);
    const stream = shardedStream(source, 4, 9);
    const failedOnce = new Set<string>();
    const { handler, succeeded } = recordingHandler((event) => {
      const batch = idsOf(event) as string[];
      // Every 7th run throws once (bisection); every 11th is reported once as a batch item failure.
      const thrower = batch.find((id) => Number(id.slice(4)) % 7 === 3 && !failedOnce.has(id));
      if (thrower) {
        failedOnce.add(thrower);
        throw new Error(`injected failure on ${thrower}`);
      }
      const index = batch.findIndex((id) => Number(id.slice(4)) % 11 === 5 && !failedOnce.has(id));
      if (index >= 0) {
        failedOnce.add(batch[index] as string);
        return { batchItemFailures: [{ itemIdentifier: event.Records[index]?.dynamodb?.SequenceNumber }] };
      }
      return { batchItemFailures: [] };
    });
    const poller = startPoller(stream, handler);
    await poller.waitUntilCaughtUp(10_000);

    expect([...succeeded].sort()).toEqual([...sent].sort());
    expect(new Set(succeeded).size).toBe(sent.length);
    for (let lane = 0; lane < 4; lane++) {
      const inLane = succeeded.filter((id) => shardIndexForKey(id, 4) === lane);
      expect(inLane).toEqual(sent.filter((id) => shardIndexForKey(id, 4) === lane));
    }
    expect(poller.status()).toMatchObject({ deadLetterCount: 0 });
    expect(poller.status().bisections).toBeGreaterThan(0);
  });

  it('follows the real stream across its own shard lineage and expired iterators without routing a record twice', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    source.put('real-1', ids('a-', 30));
    source.closeShard('real-1');
    source.addShard('real-2', 'real-1');
    source.put('real-2', ids('b-', 30));
    source.expireNextReads = 2;
    const stream = shardedStream(source, 3, 4);
    const { handler, succeeded } = recordingHandler();
    const poller = startPoller(stream, handler);
    await poller.waitUntilCaughtUp(10_000);

    expect([...succeeded].sort()).toEqual([...ids('a-', 30), ...ids('b-', 30)].sort());
    for (let lane = 0; lane < 3; lane++) {
      expect(succeeded.filter((id) => shardIndexForKey(id, 3) === lane)).toEqual(
        [...ids('a-', 30), ...ids('b-', 30)].filter((id) => shardIndexForKey(id, 3) === lane),
      );
    }
  });

  it('holds a bounded number of records while a shard is slow, and still delivers every one', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    const sent = ids('run-', 200);
    source.put('real-1', sent);
    // 2 lanes × 3 records per shard: the bound is raised to 12 at least.
    const stream = new ShardedStream({
      source,
      streamArn: fakeStreamArn,
      shardCount: 2,
      partitionKeyName: 'executionId',
      recordsPerShard: 3,
      maxHeldRecords: 5,
    });
    let mostHeld = 0;
    const { handler, succeeded } = recordingHandler(async () => {
      mostHeld = Math.max(mostHeld, stream.heldRecordCount());
      await new Promise((done) => setTimeout(done, 1));
      return { batchItemFailures: [] };
    });
    const poller = startPoller(stream, handler);
    await poller.waitUntilCaughtUp(20_000);

    expect([...succeeded].sort()).toEqual([...sent].sort());
    expect(mostHeld).toBeLessThanOrEqual(12);
    expect(mostHeld).toBeGreaterThan(0);
  });

  it('answers an unknown shard or iterator as DynamoDB Streams does', async () => {
    const source = new FakeStream();
    source.addShard('real-1');
    const stream = shardedStream(source, 2, 10);
    await expect(
      stream.getShardIterator({
        StreamArn: fakeStreamArn,
        ShardId: 'shardId-x',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(stream.getRecords({ ShardIterator: `${virtualShardId(0, 0, 2)}|-4` })).rejects.toMatchObject(
      { name: 'ValidationException' },
    );
    expect(() => shardedStream(source, 65, 10)).toThrow(RangeError);
  });
});

describe('claimStreamLayout', () => {
  it('refuses a data dir kept with another shard count, and accepts the same one again', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stream-layout-'));
    try {
      claimStreamLayout(dataDir, 4);
      claimStreamLayout(dataDir, 4);
      expect(() => claimStreamLayout(dataDir, 1)).toThrow(/--stream-shards 4/);
      expect(() => claimStreamLayout(dataDir, 4, 50)).toThrow(/--stream-shards 4/);

      const older = mkdtempSync(join(tmpdir(), 'stream-layout-'));
      writeFileSync(join(older, 'stream-checkpoints.json'), '{}');
      expect(() => claimStreamLayout(older, 4)).toThrow(/--stream-shards 1/);
      claimStreamLayout(older, 1);
      expect(existsSync(join(older, 'stream-layout.json'))).toBe(true);
      rmSync(older, { recursive: true, force: true });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
