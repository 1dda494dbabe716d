/**
 * Test fixture: a private DynamoDB Local with our tables, and the process
 * environment that makes the handler modules talk to it.
 *
 * The handlers build their SDK clients when first imported, so import them
 * (dynamically) only after `startDynamoFixture()` resolved.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { tableDefinitions } from '../../functions/store/tables';
import { createTables, localAwsSettings, startDynamoDbLocal } from '../../local/dynamodb-local';
import { installPermissionGuard } from '../../local/permission-guard';

export interface DynamoFixture {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  /** Every record of the Executions stream so far, per shard, as Lambda would deliver them. */
  readStream(): Promise<{ shardId: string; records: DynamoDBRecord[] }[]>;
  stop(): Promise<void>;
}

/** Converts a DynamoDB Streams API record to the Lambda event record shape. */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const dynamodb = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: localAwsSettings.region,
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    dynamodb: {
      ApproximateCreationDateTime: dynamodb.ApproximateCreationDateTime
        ? dynamodb.ApproximateCreationDateTime.getTime() / 1000
        : undefined,
      Keys: dynamodb.Keys as never,
      NewImage: dynamodb.NewImage as never,
      OldImage: dynamodb.OldImage as never,
      SequenceNumber: dynamodb.SequenceNumber,
      SizeBytes: dynamodb.SizeBytes,
      StreamViewType: dynamodb.StreamViewType as never,
    },
  };
}

export async function startDynamoFixture(): Promise<DynamoFixture> {
  const local = await startDynamoDbLocal({ corsOrigins: ['http://127.0.0.1'] });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
    AWS_REGION: localAwsSettings.region,
    AWS_ACCESS_KEY_ID: localAwsSettings.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localAwsSettings.secretAccessKey,
    EXECUTIONS_TABLE_NAME: 'Executions',
    AGGREGATES_TABLE_NAME: 'Aggregates',
    RAW_RETENTION_DAYS: '90',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });
  const credentials = {
    accessKeyId: localAwsSettings.accessKeyId,
    secretAccessKey: localAwsSettings.secretAccessKey,
  };
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: localAwsSettings.region,
    credentials,
  });
  const streams = new DynamoDBStreamsClient({
    endpoint: local.endpoint,
    region: localAwsSettings.region,
    credentials,
  });
  await createTables(client, tableDefinitions);

  async function readStream() {
    const table = await client.send(new DescribeTableCommand({ TableName: 'Executions' }));
    const streamArn = table.Table?.LatestStreamArn;
    if (!streamArn) throw new Error('Executions has no stream');
    const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const result: { shardId: string; records: DynamoDBRecord[] }[] = [];
    for (const shard of description.StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId ?? '';
      let iterator = (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      const records: DynamoDBRecord[] = [];
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records.push(...(page.Records ?? []).map((record) => toLambdaRecord(record, streamArn)));
        // An open shard always returns a next iterator; stop once a page is empty.
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
      result.push({ shardId, records });
    }
    return result;
  }

  return {
    endpoint: local.endpoint,
    client,
    streams,
    readStream,
    stop: async () => {
      client.destroy();
      streams.destroy();
      await local.stop();
    },
  };
}

/**
 * Holds the handlers' shared DynamoDB client to the roles of
 * functions/store/permissions.ts, as the local runtime does; handlers wrapped in
 * `asFunction` (local/permission-guard.ts) then fail on a missing grant like
 * they would in AWS. Call after `startDynamoFixture()`.
 */
export async function enforceRoles(): Promise<void> {
  const { dynamodb } = await import('../../functions/store/clients');
  installPermissionGuard(dynamodb, localAwsSettings.region);
}

/** The fixture with the aggregate and query handlers bound to it. */
export interface HandlerFixture {
  readonly fixture: DynamoFixture;
  readonly aggregate: ReturnType<typeof import('../../functions/aggregate').createAggregateHandler>;
  readonly query: typeof import('../../functions/query').handler;
}

/**
 * Starts the fixture, then imports the handlers (their clients are built at
 * import, so only now) with logs silenced and metrics dropped; `dependencies`
 * adds to the aggregate handler's (a clock, say).
 */
export async function startHandlerFixture(
  dependencies: Parameters<typeof import('../../functions/aggregate').createAggregateHandler>[0] = {},
): Promise<HandlerFixture> {
  const fixture = await startDynamoFixture();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  const [aggregateModule, queryModule] = await Promise.all([
    import('../../functions/aggregate'),
    import('../../functions/query'),
  ]);
  return {
    fixture,
    query: queryModule.handler,
    aggregate: aggregateModule.createAggregateHandler({ emfSink: () => undefined, ...dependencies }),
  };
}
