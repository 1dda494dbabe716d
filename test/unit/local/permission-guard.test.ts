import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { installPermissionGuard, runAs, withoutGrant } from '../../../local/permission-guard';

// Nothing listens on port 9: a call the guard lets through fails on the network instead.
function guardedClient() {
  const client = new DynamoDBClient({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  installPermissionGuard(client, 'us-east-1');
  return client;
}

const edgeHourRead = new BatchGetItemCommand({
  RequestItems: { Aggregates: { Keys: [{ pk: { S: 'hour#all' }, sk: { S: '2026-01-01T00' } }] } },
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

describe('local permission guard', () => {
  it('lets the query function batch-read Aggregates, as its role allows', async () => {
    const error = await failure(runAs('query', () => guardedClient().send(edgeHourRead)));
    expect(error.name).not.toBe('AccessDeniedException');
  });

  it('refuses the edge-hour read once BatchGetItem is taken from the query grants, as AWS would', async () => {
    const error = await failure(
      runAs(
        'query',
        () => guardedClient().send(edgeHourRead),
        withoutGrant('query', 'dynamodb:BatchGetItem'),
      ),
    );
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toMatch(
      /^User: arn:aws:sts::\d{12}:assumed-role\/query-role\/query is not authorized to perform: dynamodb:BatchGetItem on resource: arn:aws:dynamodb:us-east-1:\d{12}:table\/Aggregates because no identity-based policy allows the dynamodb:BatchGetItem action$/,
    );
    expect((error as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(
      400,
    );
  });

  it('refuses a query of the Executions base table: the query role may read only its index', async () => {
    const client = guardedClient();
    const query = (indexName?: string) =>
      new QueryCommand({
        TableName: 'Executions',
        ...(indexName ? { IndexName: indexName } : {}),
        KeyConditionExpression: 'startDay = :d',
        ExpressionAttributeValues: { ':d': { S: '2026-01-01' } },
      });
    expect((await failure(runAs('query', () => client.send(query())))).name).toBe('AccessDeniedException');
    expect((await failure(runAs('query', () => client.send(query('byStartTime'))))).name).not.toBe(
      'AccessDeniedException',
    );
  });

  it('checks document-client calls too: ingest may not write Aggregates', async () => {
    const documents = DynamoDBDocumentClient.from(guardedClient());
    const put = (table: string) => new PutCommand({ TableName: table, Item: { executionId: 'e1' } });
    expect((await failure(runAs('ingest', () => documents.send(put('Aggregates'))))).name).toBe(
      'AccessDeniedException',
    );
    expect((await failure(runAs('ingest', () => documents.send(put('Executions'))))).name).not.toBe(
      'AccessDeniedException',
    );
  });

  it('lets calls made outside any function through (table set-up and fixtures have no role)', async () => {
    const error = await failure(guardedClient().send(edgeHourRead));
    expect(error.name).not.toBe('AccessDeniedException');
  });
});
