/**
 * The local event source mapping against DynamoDB Local's real stream, with a
 * fake handler: what Lambda promises about delivery, order, retries and poison
 * records must hold here too, since the aggregate handler's exactly-once
 * mechanism is only as good as the delivery it is tested under.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executionsTable } from '../../functions/store/tables';
import {
  createTableInput,
  type DynamoDbLocal,
  localAwsSettings,
  startDynamoDbLocal,
} from '../../local/dynamodb-local';
import type { StreamHandlerResult, WindowedStreamEvent } from '../../local/stream-event';
import { MAX_INVOCATION_PAYLOAD_BYTES, StreamPoller, streamsApiFromClient } from '../../local/stream-poller';

let dynamo: DynamoDbLocal;
let client: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let tableCount = 0;
const pollers: StreamPoller[] = [];

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ corsOrigins: ['http://127.0.0.1:1'] });
  const config = {
    endpoint: dynamo.endpoint,
    region: localAwsSettings.region,
    credentials: {
      accessKeyId: localAwsSettings.accessKeyId,
      secretAccessKey: localAwsSettings.secretAccessKey,
    },
  };
  client = new DynamoDBClient(config);
  streams = new DynamoDBStreamsClient(config);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  client?.destroy();
  streams?.destroy();
  await dynamo?.stop();
});

/** A fresh table shaped like Executions, so each test reads its own stream. */
async function freshTable(): Promise<{ tableName: string; streamArn: string }> {
  tableCount++;
  const tableName = `PollerTest${tableCount}`;
  await client.send(new CreateTableCommand(createTableInput(executionsTable, tableName)));
  const description = await client.send(new DescribeTableCommand({ TableName: tableName }));
  return { tableName, streamArn: description.Table!.LatestStreamArn! };
}

async function putRuns(tableName: string, ids: readonly string[]): Promise<void> {
  // Sequentially, so the stream order is the order of `ids`.
  for (const id of ids) {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { executionId: { S: id }, status: { S: 'success' }, blob: { B: new Uint8Array([104, 105]) } },
      }),
    );
  }
}

function startPoller(
  streamArn: string,
  behaviour: (event: WindowedStreamEvent, call: number) => StreamHandlerResult,
  options: { maxRetryAttempts?: number; batchSize?: number } = {},
) {
  const calls: WindowedStreamEvent[] = [];
  const lines: string[] = [];
  const poller = new StreamPoller({
    streams: streamsApiFromClient(streams),
    streamArn,
    handler: async (event) => {
      calls.push(event);
      return behaviour(event, calls.length);
    },
    batchingWindowMs: 50,
    retryBackoffMs: 5,
    log: (line) => lines.push(line),
    ...options,
  });
  pollers.push(poller);
  poller.start();
  return { poller, calls, lines };
}

const idsOf = (event: WindowedStreamEvent) =>
  event.Records.map((record) => record.dynamodb?.Keys?.executionId?.S);
const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

describe('StreamPoller on DynamoDB Local', () => {
  it('cuts a batch of large records at the invocation payload limit, as Lambda does', async () => {
    const { tableName, streamArn } = await freshTable();
    // 24 items of ~300 KB: ~7 MB of records, more than one invocation may carry.
    const written = ids('large-', 24);
    for (const id of written)
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { executionId: { S: id }, status: { S: 'success' }, padding: { S: 'x'.repeat(300_000) } },
        }),
      );

    const { poller, calls } = startPoller(streamArn, () => ({ batchItemFailures: [] }));
    await poller.waitUntilCaughtUp(60_000);

    expect(calls.flatMap(idsOf)).toEqual(written);
    expect(calls.length).toBeGreaterThan(1);
    for (const event of calls)
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(6 * 1024 * 1024);
    expect(Math.max(...calls.map((event) => Buffer.byteLength(JSON.stringify(event))))).toBeGreaterThan(
      MAX_INVOCATION_PAYLOAD_BYTES - 400_000,
    );
  });

  it('delivers every record once, in stream order, in batches of at most the batch size, as real stream events', async () => {
    const { tableName, streamArn } = await freshTable();
    const written = ids('run-', 230);
    await putRuns(tableName, written);

    const { poller, calls } = startPoller(streamArn, () => ({ batchItemFailures: [] }), { batchSize: 100 });
    await poller.waitUntilCaughtUp(60_000);

    expect(calls.flatMap(idsOf)).toEqual(written);
    expect(Math.max(...calls.map((event) => event.Records.length))).toBe(100);
    const sequenceNumbers = calls.flatMap((event) =>
      event.Records.map((record) => BigInt(record.dynamodb!.SequenceNumber!)),
    );
    expect(sequenceNumbers.every((value, index) => index === 0 || value > sequenceNumbers[index - 1]!)).toBe(
      true,
    );
    const [first] = calls;
    expect(first).toMatchObject({ shardId: expect.stringMatching(/^shardId-/), eventSourceARN: streamArn });
    expect(first!.Records[0]).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventVersion: '1.1',
      eventSourceARN: streamArn,
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { executionId: { S: 'run-0' } },
        NewImage: { executionId: { S: 'run-0' }, blob: { B: 'aGk=' } },
        SequenceNumber: expect.stringMatching(/^\d{21,40}$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
  });

  it('carries old and new images of MODIFY and REMOVE records', async () => {
    const { tableName, streamArn } = await freshTable();
    await putRuns(tableName, ['run-1']);
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { executionId: { S: 'run-1' }, status: { S: 'failure' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: tableName, Key: { executionId: { S: 'run-1' } } }));

    const { poller, calls } = startPoller(streamArn, () => undefined);
    await poller.waitUntilCaughtUp(60_000);

    const records = calls.flatMap((event) => event.Records);
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(records[1]?.dynamodb).toMatchObject({
      OldImage: { status: { S: 'success' } },
      NewImage: { status: { S: 'failure' } },
    });
    expect(records[2]?.dynamodb?.OldImage).toMatchObject({ status: { S: 'failure' } });
    expect(records[2]?.dynamodb?.NewImage).toBeUndefined();
  });

  it('bisects a batch whose invocation throws, then delivers both halves', async () => {
    const { tableName, streamArn } = await freshTable();
    await putRuns(tableName, ids('run-', 40));

    const { poller, calls } = startPoller(streamArn, (_event, call) => {
      if (call === 1) throw new Error('crash in the middle of the batch');
      return undefined;
    });
    await poller.waitUntilCaughtUp(60_000);

    const [failed, firstHalf, secondHalf] = calls.map(idsOf);
    expect(failed).toEqual(ids('run-', 40));
    expect(firstHalf).toEqual(ids('run-', 40).slice(0, 20));
    expect(secondHalf).toEqual(ids('run-', 40).slice(20));
    expect(poller.status()).toMatchObject({ bisections: 1, recordsProcessed: 40, deadLetterCount: 0 });
  });

  it('replays from the sequence number a partial batch response names', async () => {
    const { tableName, streamArn } = await freshTable();
    await putRuns(tableName, ids('run-', 10));

    const { poller, calls } = startPoller(streamArn, (event, call) =>
      call === 1
        ? { batchItemFailures: [{ itemIdentifier: event.Records[6]!.dynamodb!.SequenceNumber! }] }
        : undefined,
    );
    await poller.waitUntilCaughtUp(60_000);

    expect(calls.map(idsOf)).toEqual([ids('run-', 10), ids('run-', 10).slice(6)]);
  });

  it('dead-letters a poison record after the bounded retries while the records after it still flow', async () => {
    const { tableName, streamArn } = await freshTable();
    await putRuns(tableName, ['good-0', 'good-1']);
    // An item written by hand, without the fields of a run.
    await client.send(new PutItemCommand({ TableName: tableName, Item: { executionId: { S: 'poison' } } }));
    await putRuns(tableName, ['good-2', 'good-3']);

    const processed: string[] = [];
    const { poller, calls, lines } = startPoller(
      streamArn,
      (event) => {
        for (const record of event.Records) {
          if (!record.dynamodb?.NewImage?.status) {
            return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
          }
          processed.push(record.dynamodb.NewImage.executionId!.S!);
        }
        return undefined;
      },
      { maxRetryAttempts: 5 },
    );
    await poller.waitUntilCaughtUp(60_000);

    expect(processed).toEqual(['good-0', 'good-1', 'good-2', 'good-3']);
    // The first try plus five retries.
    expect(calls.filter((event) => idsOf(event).includes('poison'))).toHaveLength(6);
    const { deadLetters } = poller.status();
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      keys: { executionId: { S: 'poison' } },
      attempts: 6,
      eventName: 'INSERT',
    });
    expect(
      lines.some((line) => line.includes('DEAD LETTER') && line.includes(deadLetters[0]!.sequenceNumber)),
    ).toBe(true);
  });
});
