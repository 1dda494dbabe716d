import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_CONCURRENCY, ReadMeter, readAggregates } from '../../../functions/store/aggregates-reader';

const dynamodb = mockClient(DynamoDBClient);
const DAYS = Array.from({ length: 16 }, (_, index) => `2026-11-${String(index + 1).padStart(2, '0')}`);

/** The day items of `model` for 2026-11-01..16, each with `executions` successes, written with change token `version`. */
function dayItems(executions: number, version: string | undefined, model = 'm') {
  return DAYS.map((sk) => ({
    pk: { S: `A#D#${model}` },
    sk: { S: sk },
    ...(version === undefined ? {} : { v: { S: version } }),
    sn: { N: String(executions) },
    sh300: { N: String(executions) },
  }));
}

/** What a read of keys and change tokens returns of `items`. */
const versionsOf = (items: readonly { pk: { S: string }; sk: { S: string }; v?: { S: string } }[]) =>
  items.map(({ pk, sk, v }) => ({ pk, sk, ...(v === undefined ? {} : { v }) }));

const read = async (model = 'm') => {
  const items = await readAggregates(
    'Aggregates',
    { models: [model], hourKeys: [], dayKeys: DAYS },
    new ReadMeter(),
  );
  return items.map((item) => [
    item.bucket,
    item.byStatus.success.counters.executions,
    item.byStatus.success.histogram.get('d300'),
  ]);
};

const projections = () =>
  dynamodb.commandCalls(QueryCommand).map((call) => call.args[0].input.ProjectionExpression);
const keysFetched = () =>
  dynamodb
    .commandCalls(BatchGetItemCommand)
    .flatMap((call) => Object.values(call.args[0].input.RequestItems ?? {}).flatMap((r) => r.Keys ?? []))
    .map((key) => key.sk?.S);

describe('readAggregates', () => {
  afterEach(() => dynamodb.reset());

  it('reads a series read before as keys and change tokens, then fetches only the changed items', async () => {
    const changed = [...dayItems(5, 'second').slice(0, 3), ...dayItems(1, 'first').slice(3)];
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: dayItems(1, 'first'), Count: 16 })
      .resolvesOnce({ Items: versionsOf(dayItems(1, 'first')), Count: 16 })
      .resolvesOnce({ Items: versionsOf(changed), Count: 16 });
    dynamodb.on(BatchGetItemCommand).resolves({ Responses: { Aggregates: changed.slice(0, 3) } });

    expect(await read()).toEqual(DAYS.map((day) => [day, 1, 1]));
    expect(await read()).toEqual(DAYS.map((day) => [day, 1, 1]));
    expect(await read()).toEqual(DAYS.map((day, index) => (index < 3 ? [day, 5, 5] : [day, 1, 1])));
    expect(projections()).toEqual([undefined, '#pk, #sk, #v', '#pk, #sk, #v']);
    expect(keysFetched()).toEqual(DAYS.slice(0, 3));
  });

  it('reads the whole span again, in one call, when more than 25 of its items changed', async () => {
    const days = Array.from({ length: 30 }, (_, index) => `2026-09-${String(index + 1).padStart(2, '0')}`);
    const items = (executions: number, version: string) =>
      days.map((sk) => ({
        pk: { S: 'A#D#many' },
        sk: { S: sk },
        v: { S: version },
        sn: { N: String(executions) },
      }));
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: items(1, 'first'), Count: 30 })
      .resolvesOnce({ Items: versionsOf(items(7, 'second')), Count: 30 })
      .resolvesOnce({ Items: items(7, 'second'), Count: 30 });
    const readMany = async () =>
      (
        await readAggregates('Aggregates', { models: ['many'], hourKeys: [], dayKeys: days }, new ReadMeter())
      ).map((item) => item.byStatus.success.counters.executions);

    expect(await readMany()).toEqual(days.map(() => 1));
    expect(await readMany()).toEqual(days.map(() => 7));
    expect(projections()).toEqual([undefined, '#pk, #sk, #v', undefined]);
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('decodes items without a change token every time', async () => {
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: dayItems(2, undefined, 'untokened'), Count: 16 })
      .resolvesOnce({ Items: versionsOf(dayItems(3, undefined, 'untokened')), Count: 16 });
    dynamodb
      .on(BatchGetItemCommand)
      .resolves({ Responses: { Aggregates: dayItems(3, undefined, 'untokened') } });

    expect(await read('untokened')).toEqual(DAYS.map((day) => [day, 2, 2]));
    expect(await read('untokened')).toEqual(DAYS.map((day) => [day, 3, 3]));
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
