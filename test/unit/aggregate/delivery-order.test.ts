/**
 * A batch whose records arrive out of sequence order (a tumbling-window
 * mapping may redeliver them so) counts the same as the batch in order.
 */
import {
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type AggregateEvent, createAggregateHandler } from '../../../functions/aggregate';
import { FakeAggregatesTable } from './fake-aggregates';
import { runImage, streamRecord } from './runs';

vi.hoisted(() => {
  process.env.AGGREGATES_TABLE_NAME ??= 'Aggregates';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
});

const dynamodb = mockClient(DynamoDBClient);
let table: FakeAggregatesTable;

beforeEach(() => {
  dynamodb.reset();
  table = new FakeAggregatesTable();
  dynamodb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => table.put(input));
  dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => table.update(input));
});

/** Inserts, then a correction of run 0 and the removal of run 1, in sequence order. */
function records() {
  const runs = Array.from({ length: 8 }, (_, index) =>
    runImage({ executionId: `r${index}`, model: `m${index % 2}`, inputTokens: 10 * (index + 1) }),
  );
  return [
    ...runs.map((run, index) => streamRecord('INSERT', index + 1, { newImage: run })),
    streamRecord('MODIFY', 9, { oldImage: runs[0], newImage: { ...runs[0], inputTokens: 5 } }),
    streamRecord('REMOVE', 10, { oldImage: runs[1] }),
  ];
}

async function snapshotAfter(batch: ReturnType<typeof records>) {
  table = new FakeAggregatesTable();
  const handler = createAggregateHandler({
    aggregatesTableName: 'Aggregates',
    emfSink: () => {},
  });
  const response = await handler({
    Records: batch,
    shardId: `shardId-00000001700000000000-${Math.random().toString(36).slice(2, 10)}`,
  } as AggregateEvent);
  return { response, snapshot: table.snapshot() };
}

describe('records delivered out of sequence order within a batch', () => {
  it('are counted as if they came in order', async () => {
    // Arrange
    const inOrder = await snapshotAfter(records());

    // Act
    const reversed = await snapshotAfter(records().reverse());

    // Assert
    expect(reversed.response.batchItemFailures).toEqual([]);
    expect(reversed.snapshot).toEqual(inOrder.snapshot);
    expect(Object.keys(inOrder.snapshot).length).toBeGreaterThan(0);
  });
});
