/**
 * The rebuild's recomputation lays figures out exactly as the stream
 * writer's ADDs leave them, so an item the stream built from some runs and the item the rebuild
 * recomputes from the same runs are equal (and a second rebuild writes
 * nothing). Day ranges and the retention guard of the command.
 */
import {
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { type AggregateEvent, createAggregateHandler } from '../../../functions/aggregate';
import { BatchAccumulator, sumContributions } from '../../../functions/domain/deltas';
import {
  aggregateKeyOf,
  decodeAggregateItem,
  keyId,
  paddedSequence,
} from '../../../functions/store/aggregate-keys';
import { daysBetween, firstExpiredDay, rebuiltFigures } from '../../../functions/store/aggregates-rebuild';
import { FakeAggregatesTable } from './fake-aggregates';
import { runImage, streamRecord } from './runs';

vi.hoisted(() => {
  process.env.AGGREGATES_TABLE_NAME ??= 'Aggregates';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
});

const dynamodb = mockClient(DynamoDBClient);

describe('rebuild figures', () => {
  it('equal the stream writer’s items for the same runs, batch by batch or all at once', async () => {
    // Arrange: 60 runs over 2 models, 2 hours, both statuses, 3 error types.
    const table = new FakeAggregatesTable();
    dynamodb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => table.put(input));
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => table.update(input));
    const runs = Array.from({ length: 60 }, (_, index) =>
      runImage({
        executionId: `r${index}`,
        model: `m${index % 2}`,
        status: index % 3 === 0 ? 'failure' : 'success',
        errorType:
          index % 3 === 0
            ? ['Timeout', 'TestFailure', 'BuildError'][index % 9 === 0 ? 0 : (index % 2) + 1]
            : undefined,
        startMs: Date.parse('2026-11-01T10:00:00Z') + index * 120_000,
        durationMs: 1_000 + index * 7_919,
        costNanos: index % 5 === 0 ? undefined : BigInt(index) * 1_000_000n,
      }),
    );
    const handler = createAggregateHandler({
      aggregatesTableName: 'Aggregates',
      emfSink: () => {},
    });
    for (let start = 0; start < runs.length; start += 7)
      await handler({
        Records: runs
          .slice(start, start + 7)
          .map((run, offset) => streamRecord('INSERT', start + offset + 1, { newImage: run })),
        shardId: 'shardId-00000001700000000000-rebuild1',
      } as AggregateEvent);

    // Act: the rebuild's way, every run at once.
    const accumulator = new BatchAccumulator();
    for (const [index, run] of runs.entries())
      accumulator.add(paddedSequence(String(index + 1)), {
        kind: 'INSERT',
        expiredByTtl: false,
        newRun: run,
      });
    const recomputed = new Map(
      accumulator
        .pendingItems()
        .map((item) => [keyId(aggregateKeyOf(item)), rebuiltFigures(sumContributions(item))]),
    );

    // Assert
    // The models' hour and day items, and the all-models rollup's for the same buckets.
    expect(recomputed.size).toBe(9);
    for (const [id, figures] of recomputed) {
      const [pk = '', sk = ''] = id.split('\u0000');
      const numbers = Object.fromEntries(
        [...figures.numbers].map(([name, amount]) => [name, amount.toString()]),
      );
      expect(table.snapshot()[`${pk}|${sk}`], id).toEqual(numbers);
      const { success, failure } = decodeAggregateItem(table.item(pk, sk)).byStatus;
      expect({ success: success.extent, failure: failure.extent }, id).toEqual({
        success: figures.extents.success,
        failure: figures.extents.failure,
      });
    }
  });

  it('names every day of a range and refuses days whose runs may have expired', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    expect(() => daysBetween('2026-03-02', '2026-03-01')).toThrow(RangeError);
    expect(() => daysBetween('2026-3-2', '2026-03-02')).toThrow(RangeError);
    expect(firstExpiredDay(Date.parse('2026-12-02T07:00:00Z'), 90)).toBe('2026-09-03');
  });
});
