import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RECORD_AGE_SECONDS } from '../../../functions/domain/record-age';
import { StreamPoller, type StreamPollerOptions } from '../../../local/stream-poller';
import { FakeStream, fakeStreamArn, idsOf, recordingHandler, sequenceOf } from './fake-stream';

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

const pollers: StreamPoller[] = [];
function startPoller(
  stream: FakeStream,
  options: Partial<StreamPollerOptions> & Pick<StreamPollerOptions, 'handler'>,
) {
  const poller = new StreamPoller({
    streams: stream,
    streamArn: fakeStreamArn,
    batchingWindowMs: 20,
    retryBackoffMs: 1,
    idlePollMaxMs: 10,
    shardDiscoveryIntervalMs: 20,
    ...options,
  });
  pollers.push(poller);
  poller.start();
  return poller;
}

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop({ abandonInFlight: true })));
});

describe('StreamPoller', () => {
  it('delivers every record once, in order, in batches of at most batchSize, as Lambda stream events', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    stream.put('shard-1', ids('run-', 35), createdAt);
    const { handler, calls, succeeded } = recordingHandler();

    const poller = startPoller(stream, { handler, batchSize: 10 });
    await poller.waitUntilCaughtUp(5_000);

    expect(succeeded).toEqual(ids('run-', 35));
    expect(calls.every((event) => event.Records.length <= 10)).toBe(true);
    const event = calls[0]!;
    expect(event).toMatchObject({
      shardId: 'shard-1',
      eventSourceARN: fakeStreamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
      state: {},
    });
    expect(event.window.start < event.window.end).toBe(true);
    expect(event.Records[0]).toMatchObject({
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      eventSourceARN: fakeStreamArn,
      dynamodb: {
        ApproximateCreationDateTime: createdAt.getTime() / 1000,
        Keys: { executionId: { S: 'run-0' } },
        NewImage: { payload: { B: 'AQID' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(poller.status()).toMatchObject({ recordsProcessed: 35, deadLetterCount: 0 });
  });

  it('dead-letters records older than the maximum record age unsent, as Lambda discards them', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    const now = Date.now();
    stream.put('shard-1', ids('old-', 3), new Date(now - (MAX_RECORD_AGE_SECONDS + 5) * 1000));
    stream.put('shard-1', ids('young-', 2), new Date(now - (MAX_RECORD_AGE_SECONDS - 60) * 1000));
    const { handler, succeeded } = recordingHandler();

    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    expect(succeeded).toEqual(ids('young-', 2));
    expect(poller.status()).toMatchObject({ recordsProcessed: 2, deadLetterCount: 3 });
    expect(poller.status().deadLetters.map((letter) => letter.reason)).toEqual(
      Array(3).fill('older than the maximum record age'),
    );
  });

  // 'a' comes 60 ms before 'b' and 'c', which one read finds together.
  const windowCases = [
    {
      title: 'waits up to the batching window to fill a batch',
      batchingWindowMs: 300,
      batches: [['a', 'b', 'c']],
    },
    {
      title:
        'with a batching window of 0, invokes as soon as a read finds records, as Lambda does by default',
      batchingWindowMs: 0,
      batches: [['a'], ['b', 'c']],
    },
  ];
  for (const { title, batchingWindowMs, batches } of windowCases) {
    it(title, async () => {
      const stream = new FakeStream();
      stream.addShard('shard-1');
      const { handler, calls } = recordingHandler();
      const poller = startPoller(stream, { handler, batchingWindowMs });
      await poller.waitUntilCaughtUp(5_000);

      stream.put('shard-1', ['a']);
      await new Promise((done) => setTimeout(done, 60));
      stream.put('shard-1', ['b', 'c']);
      await poller.waitUntilCaughtUp(5_000);

      expect(calls.map(idsOf)).toEqual(batches);
    });
  }

  it('bisects a batch whose invocation throws and retries the halves in order', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 8));
    const { handler, calls, succeeded } = recordingHandler((_event, call) => {
      if (call === 1) throw new Error('crashed mid-batch');
      return { batchItemFailures: [] };
    });

    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    expect(calls.map((event) => event.Records.length)).toEqual([8, 4, 4]);
    expect(succeeded).toEqual(ids('run-', 8));
    expect(poller.status()).toMatchObject({ bisections: 1, deadLetterCount: 0 });
  });

  it('after a partial batch failure, replays from the failed record and never repeats the records before it', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 6));
    const { handler, calls, succeeded } = recordingHandler((event, call) =>
      call === 1
        ? { batchItemFailures: [{ itemIdentifier: sequenceOf(event, 3) }] }
        : { batchItemFailures: [] },
    );

    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    expect(calls.map(idsOf)).toEqual([ids('run-', 6), ['run-3', 'run-4', 'run-5']]);
    expect(succeeded).toEqual(ids('run-', 6));
  });

  it('treats an itemIdentifier that is not in the batch as a failure of the whole batch', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 4));
    const { handler, calls } = recordingHandler((_event, call) =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] } : undefined,
    );

    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    expect(calls.map((event) => event.Records.length)).toEqual([4, 2, 2]);
  });

  it('sends a record reported as failed every time to the dead-letter list after the bounded retries, and the shard flows on', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    const [, poisonSequence] = stream.put('shard-1', ['good-0', 'poison', 'good-1', 'good-2']);
    const { handler, calls, succeeded } = recordingHandler((event) => {
      const index = idsOf(event).indexOf('poison');
      return { batchItemFailures: index < 0 ? [] : [{ itemIdentifier: sequenceOf(event, index) }] };
    });
    const lines: string[] = [];

    const poller = startPoller(stream, { handler, maxRetryAttempts: 5, log: (line) => lines.push(line) });
    await poller.waitUntilCaughtUp(5_000);

    // One first try plus five retries, then it is skipped.
    expect(calls.filter((event) => idsOf(event).includes('poison'))).toHaveLength(6);
    expect(succeeded).toEqual(['good-0', 'good-1', 'good-2']);
    const status = poller.status();
    expect(status.deadLetterCount).toBe(1);
    expect(status.deadLetters[0]).toMatchObject({
      shardId: 'shard-1',
      sequenceNumber: poisonSequence,
      attempts: 6,
      reason: 'reported in batchItemFailures',
      keys: { executionId: { S: 'poison' } },
    });
    expect(lines.some((line) => line.includes('DEAD LETTER') && line.includes(poisonSequence!))).toBe(true);
  });

  it('isolates a record that makes every invocation throw by bisecting, then dead-letters only that record', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 10));
    const { handler, succeeded } = recordingHandler((event) => {
      if (idsOf(event).includes('run-6')) throw new Error('cannot parse run-6');
      return undefined;
    });

    const poller = startPoller(stream, { handler, maxRetryAttempts: 2 });
    await poller.waitUntilCaughtUp(5_000);

    expect([...new Set(succeeded)].sort()).toEqual(
      ids('run-', 10)
        .filter((id) => id !== 'run-6')
        .sort(),
    );
    const status = poller.status();
    expect(status.deadLetters.map((letter) => letter.keys)).toEqual([{ executionId: { S: 'run-6' } }]);
    expect(status.deadLetters[0]?.reason).toContain('cannot parse run-6');
    expect(status.deadLetters[0]?.attempts).toBe(3);
  });

  it('does not use up retries while the store is unreachable', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 3));
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
    const { handler, calls, succeeded } = recordingHandler((_event, call) => {
      if (call <= 3) throw outage;
      return undefined;
    });

    const poller = startPoller(stream, { handler, maxRetryAttempts: 1, storeOutagePauseMs: 5 });
    await poller.waitUntilCaughtUp(10_000);

    expect(calls.map((event) => event.Records.length)).toEqual([3, 3, 3, 3]);
    expect(succeeded).toEqual(ids('run-', 3));
    expect(poller.status()).toMatchObject({ deadLetterCount: 0, bisections: 0 });
  });

  it('finds shards that appear later and reads a child only after its parent is finished', async () => {
    const stream = new FakeStream();
    stream.addShard('parent');
    stream.put('parent', ['p-0', 'p-1']);
    const { handler, succeeded } = recordingHandler();
    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    // A split: the child starts taking writes while the parent still has unread records.
    stream.addShard('child', 'parent');
    stream.put('child', ['c-0', 'c-1']);
    stream.put('parent', ['p-2']);
    await new Promise((done) => setTimeout(done, 150));
    expect(succeeded).not.toContain('c-0');
    stream.closeShard('parent');
    await poller.waitUntilCaughtUp(5_000);
    await new Promise((done) => setTimeout(done, 100));
    await poller.waitUntilCaughtUp(5_000);

    expect(succeeded).toEqual(['p-0', 'p-1', 'p-2', 'c-0', 'c-1']);
    expect(poller.status().shards.find((shard) => shard.shardId === 'parent')?.phase).toBe('finished');
  });

  it('re-creates an expired iterator without losing or repeating records', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('a-', 3));
    const { handler, succeeded } = recordingHandler();
    const poller = startPoller(stream, { handler });
    await poller.waitUntilCaughtUp(5_000);

    stream.expireNextReads = 2;
    stream.put('shard-1', ids('b-', 3));
    await poller.waitUntilCaughtUp(5_000);

    expect(succeeded).toEqual([...ids('a-', 3), ...ids('b-', 3)]);
  });

  it('resumes from the checkpoint file after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poller-'));
    try {
      const checkpointFile = join(dir, 'checkpoints.json');
      const stream = new FakeStream();
      stream.addShard('shard-1');
      stream.put('shard-1', ids('first-', 3));
      const first = recordingHandler();
      const poller = startPoller(stream, { handler: first.handler, checkpointFile });
      await poller.waitUntilCaughtUp(5_000);
      await poller.stop();

      stream.put('shard-1', ids('second-', 2));
      const second = recordingHandler();
      const restarted = startPoller(stream, { handler: second.handler, checkpointFile });
      await restarted.waitUntilCaughtUp(5_000);

      expect(first.succeeded).toEqual(ids('first-', 3));
      expect(second.succeeded).toEqual(ids('second-', 2));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('delivers a batch again when the poller dies while the handler runs', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ids('run-', 3));
    let release: () => void = () => {};
    const blocked = new Promise<void>((done) => {
      release = done;
    });
    const { handler, calls } = recordingHandler(async (_event, call) => {
      if (call === 1) await blocked;
      return undefined;
    });
    const poller = startPoller(stream, { handler });
    await expect.poll(() => calls.length).toBe(1);

    await poller.stop({ abandonInFlight: true });
    release();
    poller.start();
    await poller.waitUntilCaughtUp(5_000);

    expect(calls.map(idsOf)).toEqual([ids('run-', 3), ids('run-', 3)]);
    expect(poller.status().recordsProcessed).toBe(3);
  });

  it('passes the state a handler returns to the next invocation of the same tumbling window', async () => {
    const stream = new FakeStream();
    stream.addShard('shard-1');
    stream.put('shard-1', ['a', 'b']);
    const { handler, calls } = recordingHandler((_event, call) => ({
      batchItemFailures: [],
      state: { seen: call },
    }));
    const poller = startPoller(stream, { handler, batchSize: 1 });
    await poller.waitUntilCaughtUp(5_000);

    expect(calls.map((event) => event.state)).toEqual([{}, { seen: 1 }]);
  });
});
