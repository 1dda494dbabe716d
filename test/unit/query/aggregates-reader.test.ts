import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_CONCURRENCY, ReadMeter, readAggregates } from '../../../functions/store/aggregates-reader';

const dynamodb = mockClient(DynamoDBClient);
const DAYS = Array.from({ length: 16 }, (_, index) => `2026-11-${String(index + 1).padStart(2, '0')}`);

/** The day items of model m for 2026-11-01..16, each with `executions` successes, written with change token `version`. */
function dayItems(executions: number, version: string | undefined) {
  return DAYS.map((sk) => ({
    pk: { S: 'A#D#m' },
    sk: { S: sk },
    ...(version === undefined ? {} : { v: { S: version } }),
    sn: { N: String(executions) },
    sh300: { N: String(executions) },
  }));
}

const read = async () => {
  const items = await readAggregates(
    'Aggregates',
    { models: ['m'], hourKeys: [], dayKeys: DAYS },
    new ReadMeter(),
  );
  return items.map((item) => [
    item.bucket,
    item.byStatus.success.counters.executions,
    item.byStatus.success.histogram.get('d300'),
  ]);
};

describe('readAggregates', () => {
  afterEach(() => dynamodb.reset());

  it('reads the items afresh each time and decodes a new change token anew', async () => {
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: dayItems(1, 'first'), Count: 16 })
      .resolvesOnce({ Items: dayItems(1, 'first'), Count: 16 })
      .resolvesOnce({ Items: dayItems(5, 'second'), Count: 16 });

    expect(await read()).toEqual(DAYS.map((day) => [day, 1, 1]));
    expect(await read()).toEqual(DAYS.map((day) => [day, 1, 1]));
    expect(await read()).toEqual(DAYS.map((day) => [day, 5, 5]));
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(3);
  });

  it('decodes items without a change token every time', async () => {
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: dayItems(2, undefined), Count: 16 })
      .resolvesOnce({ Items: dayItems(3, undefined), Count: 16 });

    expect(await read()).toEqual(DAYS.map((day) => [day, 2, 2]));
    expect(await read()).toEqual(DAYS.map((day) => [day, 3, 3]));
  });

  it(`keeps at most ${READ_CONCURRENCY} calls in flight however many it plans`, async () => {
    // Prepare: 40 models × (20 days in one Query + 30 scattered hours): 40 Queries, 12 BatchGetItems.
    let inFlight = 0;
    let most = 0;
    const slow = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Settles after other calls had every chance to start.
      for (let turn = 0; turn < 5; turn++) await new Promise((done) => setImmediate(done));
      inFlight--;
    };
    dynamodb.on(QueryCommand).callsFake(async () => {
      await slow();
      return { Items: [], Count: 0 };
    });
    dynamodb.on(BatchGetItemCommand).callsFake(async () => {
      await slow();
      return { Responses: {} };
    });
    const dayKeys = Array.from({ length: 20 }, (_, index) => `2026-10-${String(index + 1).padStart(2, '0')}`);
    const hourKeys = Array.from(
      { length: 30 },
      (_, index) => `2026-11-${String(index + 1).padStart(2, '0')}T05`,
    );

    // Act
    await readAggregates(
      'Aggregates',
      { models: Array.from({ length: 40 }, (_, index) => `m${index}`), hourKeys, dayKeys },
      new ReadMeter(),
    );

    // Assess
    const calls =
      dynamodb.commandCalls(QueryCommand).length + dynamodb.commandCalls(BatchGetItemCommand).length;
    expect(calls).toBe(52);
    expect(most).toBe(READ_CONCURRENCY);
  });
});
