/**
 * The Executions item of a run: its index shard and its retention.
 */
import { describe, expect, it } from 'vitest';
import { validateExecution } from '../../../functions/domain/execution';
import { parsePriceTable } from '../../../functions/domain/pricing';
import { RUN_INDEX_SHARDS, runShardOf, toRunItem } from '../../../functions/store/run-item';

const DAY_S = 86_400;

function record(startTime: string, executionId = 'run-1') {
  const result = validateExecution({
    executionId,
    startTime,
    endTime: new Date(Date.parse(startTime) + 60_000).toISOString(),
    status: 'success',
    model: 'm',
    inputTokens: 1,
    outputTokens: 1,
  });
  if (!result.ok) throw new Error('fixture');
  return result.record;
}

describe('run item', () => {
  it('keeps a run rawRetentionDays from when it is written, not from when it started', () => {
    const written = Date.parse('2026-12-01T12:00:00Z');
    // A backfill of a run that started 80 days earlier lives the whole 90 days, not 10.
    const old = toRunItem(record('2026-09-12T12:00:00Z'), 90, written);
    expect(old.expiresAt).toBe(written / 1000 + 90 * DAY_S);
    // A start a little ahead of the writer's clock counts from the start.
    const ahead = toRunItem(record('2026-12-01T12:02:00Z'), 90, written);
    expect(ahead.expiresAt).toBe(Date.parse('2026-12-01T12:02:00Z') / 1000 + 90 * DAY_S);
  });

  it('puts a run in the index shard of its UTC day and executionId, the same for every version', () => {
    const item = toRunItem(record('2026-11-01T23:59:59Z', 'run-7'), 90);
    expect(item.startShard).toBe(`2026-11-01#${runShardOf('run-7')}`);
    expect(item.startKey).toBe(`${String(Date.parse('2026-11-01T23:59:59Z')).padStart(15, '0')}#run-7`);
    const counts = new Array<number>(RUN_INDEX_SHARDS).fill(0);
    for (let index = 0; index < 16_000; index++) counts[runShardOf(`run-${index}`)]! += 1;
    // Sequential ids spread evenly: every shard within 10 % of its share.
    for (const count of counts) expect(Math.abs(count - 1_000)).toBeLessThan(100);
  });
});

describe('estimated cost on the run item', () => {
  /** A price table of one model `m`, USD per million tokens. */
  const pricesOfM = (
    takenOn: string,
    price: { input: number; output: number; cacheRead: number; cacheWrite: number },
  ) => {
    const table = parsePriceTable({ takenOn, source: 'test', models: { m: price } });
    if (!table.ok) throw new Error('fixture');
    return table;
  };
  const prices = pricesOfM('2026-12-02', { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 });
  const withModel = (model: string, costUsd: number | null) => ({
    ...record('2026-11-01T10:00:00Z'),
    model,
    costUsd,
  });

  it('estimates a run without a cost whose model has a price', () => {
    const item = toRunItem(withModel('m', null), 90, Date.now(), prices.prices);
    expect(item.costNanos).toBeUndefined();
    expect(item.estimatedCostNanos).toBe(18_000n); // 1 input + 1 output token at $3 and $15 per million
  });

  it('never estimates a reported cost, nor a model without a price', () => {
    expect(toRunItem(withModel('m', 0), 90, Date.now(), prices.prices)).toMatchObject({ costNanos: 0n });
    expect(toRunItem(withModel('m', 0), 90, Date.now(), prices.prices)).not.toHaveProperty(
      'estimatedCostNanos',
    );
    expect(toRunItem(withModel('other', null), 90, Date.now(), prices.prices)).not.toHaveProperty(
      'estimatedCostNanos',
    );
  });

  it('keeps the estimate out of the content hash: a re-send after a price change is a duplicate', () => {
    const cheaper = pricesOfM('2026-12-03', { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 });
    const before = toRunItem(withModel('m', null), 90, Date.now(), prices.prices);
    const after = toRunItem(withModel('m', null), 90, Date.now(), cheaper.prices);
    expect(after.estimatedCostNanos).not.toBe(before.estimatedCostNanos);
    expect(after.contentHash).toBe(before.contentHash);
  });
});
