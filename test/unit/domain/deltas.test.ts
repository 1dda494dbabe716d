import { describe, expect, it } from 'vitest';
import {
  ALL_MODELS,
  BatchAccumulator,
  countsNothing,
  type RunChange,
  runDeltaOf,
  sequencesAfter,
  signedRunsOf,
  sumContributions,
} from '../../../functions/domain/deltas';
import { runImage } from '../aggregate/runs';

const seq = (n: number) => String(n).padStart(40, '0');
const hourOf = (iso: string) => iso.slice(0, 13);

function batchOf(...changes: RunChange[]) {
  const accumulator = new BatchAccumulator();
  for (const [index, change] of changes.entries()) accumulator.add(seq(index + 1), change);
  return accumulator;
}

/** The net delta the batch makes to one item. */
function netOf(accumulator: BatchAccumulator, granularity: 'hour' | 'day', model: string, bucket: string) {
  const item = accumulator
    .pendingItems()
    .find(
      (pending) =>
        pending.granularity === granularity && pending.model === model && pending.bucket === bucket,
    );
  return item === undefined ? undefined : sumContributions(item);
}

describe('signedRunsOf', () => {
  const before = runImage({ model: 'a' });
  const after = runImage({ model: 'b' });

  it('adds the new run of an INSERT', () => {
    expect(signedRunsOf({ kind: 'INSERT', newRun: after, expiredByTtl: false })).toEqual([
      { run: after, sign: 1 },
    ]);
  });

  it('subtracts the old image and adds the new one of a MODIFY', () => {
    expect(signedRunsOf({ kind: 'MODIFY', oldRun: before, newRun: after, expiredByTtl: false })).toEqual([
      { run: before, sign: -1 },
      { run: after, sign: 1 },
    ]);
  });

  it('subtracts a REMOVE made by a user', () => {
    expect(signedRunsOf({ kind: 'REMOVE', oldRun: before, expiredByTtl: false })).toEqual([
      { run: before, sign: -1 },
    ]);
  });

  it('keeps history on a REMOVE made by TTL expiry', () => {
    expect(signedRunsOf({ kind: 'REMOVE', oldRun: before, expiredByTtl: true })).toEqual([]);
  });
});

describe('runDeltaOf', () => {
  it('counts a successful run with its cost, tokens, files and duration bucket', () => {
    const figures = runDeltaOf({ run: runImage(), sign: 1 });
    expect(figures.byStatus.success.counters).toMatchObject({
      executions: 1,
      successes: 1,
      failures: 0,
      costNanos: 12_345_000n,
      unknownCostRuns: 0,
      inputTokens: 1200,
      outputTokens: 300,
      cacheReadTokens: 800,
      cacheWriteTokens: 100,
      llmCalls: 6,
      toolCalls: 9,
      filesModified: 2,
      durationMsSum: 150_000,
    });
    expect([...figures.byStatus.success.histogram.values()]).toEqual([1]);
    expect(figures.byStatus.failure.counters.executions).toBe(0);
    expect(figures.errors.size).toBe(0);
  });

  it('counts a failure under its error type, Unknown when it has none, and no files modified', () => {
    const typed = runDeltaOf({ run: runImage({ status: 'failure', errorType: 'Timeout' }), sign: 1 });
    const untyped = runDeltaOf({ run: runImage({ status: 'failure' }), sign: 1 });
    expect(typed.byStatus.failure.counters).toMatchObject({ executions: 1, failures: 1, filesModified: 0 });
    expect(typed.errors).toEqual(new Map([['Timeout', 1]]));
    expect(untyped.errors).toEqual(new Map([['Unknown', 1]]));
  });

  it('counts a run of unknown cost as zero cost and one unknown-cost run', () => {
    const { costNanos: _dropped, ...withoutCost } = runImage();
    const figures = runDeltaOf({ run: withoutCost, sign: 1 });
    expect(figures.byStatus.success.counters).toMatchObject({ costNanos: 0n, unknownCostRuns: 1 });
  });

  it('counts an estimate apart from reported cost, and only for a run that reported none', () => {
    const { costNanos: _dropped, ...withoutCost } = runImage();
    const estimated = runDeltaOf({ run: { ...withoutCost, estimatedCostNanos: 7n }, sign: -1 });
    expect(estimated.byStatus.success.counters).toMatchObject({
      costNanos: 0n,
      estimatedCostNanos: -7n,
      estimatedCostRuns: -1,
      unknownCostRuns: 0,
    });
    const reported = runDeltaOf({ run: runImage({ estimatedCostNanos: 7n }), sign: 1 });
    expect(reported.byStatus.success.counters).toMatchObject({
      costNanos: 12_345_000n,
      estimatedCostNanos: 0n,
      estimatedCostRuns: 0,
      unknownCostRuns: 0,
    });
  });
});

describe('BatchAccumulator', () => {
  it('gives each model the first and last UTC day of its runs in the batch, the rollup left out', () => {
    const at = (iso: string, model: string, executionId: string): RunChange => ({
      kind: 'INSERT',
      newRun: runImage({ executionId, model, startMs: Date.parse(iso) }),
      expiredByTtl: false,
    });
    const batch = batchOf(
      at('2026-11-03T23:59:59Z', 'a', 'r1'),
      at('2026-11-01T00:00:00Z', 'a', 'r2'),
      at('2026-11-02T12:00:00Z', 'a', 'r3'),
      at('2026-11-02T00:30:00Z', 'b', 'r4'),
    );
    expect(batch.modelDays()).toEqual(
      new Map([
        ['a', { first: '2026-11-01', last: '2026-11-03' }],
        ['b', { first: '2026-11-02', last: '2026-11-02' }],
      ]),
    );
  });

  it('writes one item per (bucket, model) for the hour and the day, and one per bucket for all models, however many runs', () => {
    const runs = Array.from({ length: 100 }, (_, index) =>
      runImage({
        executionId: `r${index}`,
        model: `m${index % 5}`,
        status: index % 7 === 0 ? 'failure' : 'success',
        errorType: `E${index % 3}`,
      }),
    );
    const batch = batchOf(
      ...runs.map((run): RunChange => ({ kind: 'INSERT', newRun: run, expiredByTtl: false })),
    );
    expect(batch.pendingItems()).toHaveLength(12);
    expect([...batch.modelDays().keys()].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const rollup = netOf(batch, 'day', ALL_MODELS, '2026-11-01');
    expect(rollup?.byStatus.success.counters.executions).toBe(85);
    expect(rollup?.byStatus.failure.counters.failures).toBe(15);
    // No error types in the rollup: they are read per model.
    expect(rollup?.errors.size).toBe(0);
    expect(netOf(batch, 'day', 'm0', '2026-11-01')?.errors.size).toBeGreaterThan(0);
  });

  it('makes the day the sum of its hours', () => {
    const runs = [0, 1, 5, 23].map((hour, index) =>
      runImage({
        executionId: `r${index}`,
        startMs: Date.parse(`2026-11-01T${String(hour).padStart(2, '0')}:30:00Z`),
      }),
    );
    const batch = batchOf(
      ...runs.map((run): RunChange => ({ kind: 'INSERT', newRun: run, expiredByTtl: false })),
    );
    const day = netOf(batch, 'day', 'claude-sonnet-4', '2026-11-01');
    const hours = batch
      .pendingItems()
      .filter((item) => item.granularity === 'hour' && item.model !== ALL_MODELS);
    expect(hours).toHaveLength(4);
    expect(day?.byStatus.success.counters.executions).toBe(4);
    expect(day?.byStatus.success.counters.costNanos).toBe(4n * 12_345_000n);
  });

  it('moves a corrected run between days, models and statuses', () => {
    const before = runImage({ startMs: Date.parse('2026-11-01T23:50:00Z'), model: 'a' });
    const after = runImage({
      startMs: Date.parse('2026-11-02T00:10:00Z'),
      model: 'b',
      status: 'failure',
      errorType: 'Crash',
      costNanos: 1n,
    });
    const batch = batchOf(
      { kind: 'INSERT', newRun: before, expiredByTtl: false },
      { kind: 'MODIFY', oldRun: before, newRun: after, expiredByTtl: false },
    );
    // The INSERT and the correction cancel out on the old buckets: nothing is left to write there.
    expect(netOf(batch, 'day', 'a', '2026-11-01')?.byStatus.success.counters.executions).toBe(0);
    const moved = netOf(batch, 'day', 'b', '2026-11-02');
    expect(moved?.byStatus.failure.counters).toMatchObject({ executions: 1, failures: 1, costNanos: 1n });
    expect(moved?.errors).toEqual(new Map([['Crash', 1]]));
    expect(netOf(batch, 'hour', 'b', hourOf('2026-11-02T00'))?.byStatus.failure.counters.executions).toBe(1);
  });

  it('keeps no contribution for a correction that changes nothing counted', () => {
    const batch = batchOf({
      kind: 'MODIFY',
      oldRun: runImage({ errorMessage: 'old' }),
      newRun: runImage({ errorMessage: 'new' }),
      expiredByTtl: false,
    });
    expect(batch.pendingItems()).toEqual([]);
  });

  it('keeps each record apart so that a writer can skip what an item has seen', () => {
    const first = runImage({ executionId: 'a' });
    const second = runImage({ executionId: 'b', inputTokens: 5 });
    const batch = batchOf(
      { kind: 'INSERT', newRun: first, expiredByTtl: false },
      { kind: 'INSERT', newRun: second, expiredByTtl: false },
    );
    const [hour] = batch.pendingItems();
    if (!hour) throw new Error('no item');
    expect(sequencesAfter(hour)).toEqual([seq(1), seq(2)]);
    expect(sequencesAfter(hour, seq(1))).toEqual([seq(2)]);
    expect(sequencesAfter(hour, seq(2))).toEqual([]);
    expect(sumContributions(hour, seq(1)).byStatus.success.counters.inputTokens).toBe(5);
    expect(sumContributions(hour).byStatus.success.counters.inputTokens).toBe(1205);
    // A split write's share: newer than the watermark, up to and including `through`.
    expect(sumContributions(hour, undefined, seq(1)).byStatus.success.counters.inputTokens).toBe(1200);
    expect(sumContributions(hour, seq(1), seq(2)).byStatus.success.counters.inputTokens).toBe(5);
  });

  it('sums to no count, only the extent, but a range, for contributions that cancel out across records', () => {
    const run = runImage();
    const batch = batchOf(
      { kind: 'INSERT', newRun: run, expiredByTtl: false },
      { kind: 'REMOVE', oldRun: run, expiredByTtl: false },
    );
    const [hour] = batch.pendingItems();
    if (!hour) throw new Error('no item');
    // The removed run's duration stays in the extent: a bound of the runs left, which are none.
    const net = sumContributions(hour);
    expect(countsNothing(net)).toBe(true);
    expect(net.byStatus.success.extent).toEqual({ minMs: 150_000, maxMs: 150_000 });
    expect(sequencesAfter(hour)).toEqual([seq(1), seq(2)]);
  });

  it('ignores a TTL expiry and subtracts a user deletion', () => {
    const run = runImage();
    const expired = batchOf({ kind: 'REMOVE', oldRun: run, expiredByTtl: true });
    const deleted = batchOf({ kind: 'REMOVE', oldRun: run, expiredByTtl: false });
    expect(expired.pendingItems()).toEqual([]);
    expect(
      netOf(deleted, 'hour', run.model, hourOf(run.startTime))?.byStatus.success.counters.executions,
    ).toBe(-1);
  });
});
