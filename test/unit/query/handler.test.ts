import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeCursor } from '../../../functions/domain/cursor';
import { setDefaultEmfSink } from '../../../functions/store/metrics-emitter';
import { httpEvent, lambdaContext } from '../../support/events';

vi.hoisted(() => {
  Object.assign(process.env, {
    EXECUTIONS_TABLE_NAME: 'Executions',
    AGGREGATES_TABLE_NAME: 'Aggregates',
    ALARM_NAME: 'fixer-success-rate',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});

const dynamodb = mockClient(DynamoDBClient);
const cloudwatch = mockClient(CloudWatchClient);
let handler: typeof import('../../../functions/query').handler;

beforeAll(async () => {
  handler = (await import('../../../functions/query')).handler;
});
afterEach(() => {
  dynamodb.reset();
  cloudwatch.reset();
});

async function get(path: string, query: Record<string, string> = {}, method = 'GET') {
  const response = await handler(httpEvent(method, path, { query }), lambdaContext);
  return {
    status: response.statusCode,
    headers: response.headers ?? {},
    body: JSON.parse(response.body ?? '{}'),
  };
}

const cursorAt = (iso: string) => {
  const startMs = Date.parse(iso);
  return encodeCursor({ position: `${String(startMs).padStart(15, '0')}#r-1` });
};

describe('GET /api/* metrics', () => {
  it('counts a 5xx it answers itself (ServerErrorResponses, Function=query), with the stage', async () => {
    const lines: string[] = [];
    setDefaultEmfSink((line) => void lines.push(line));
    try {
      dynamodb.on(QueryCommand).resolves({ Items: [], Count: 0 });
      expect((await get('/api/summary', { tz: 'Mars/Olympus' })).status).toBe(400);
      expect(lines).toEqual([]);
      dynamodb
        .on(QueryCommand)
        .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      expect((await get('/api/summary')).status).toBe(500);
    } finally {
      setDefaultEmfSink(undefined);
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ Stage: 'local', Function: 'query', ServerErrorResponses: 1 }),
    ]);
  });
});

describe('GET /api/* bad queries', () => {
  it.each([
    ['/api/summary', { tz: 'Mars/Olympus' }, 'tz'],
    ['/api/summary', { from: '2026-02-30' }, 'from'],
    ['/api/summary', { to: 'yesterday' }, 'to'],
    ['/api/summary', { from: '2026-11-01T10:00:00+05:30' }, 'from'],
    ['/api/summary', { from: '2026-11-05', to: '2026-11-01' }, 'from'],
    ['/api/summary', { from: '2025-01-01', to: '2026-06-01' }, 'to'],
    ['/api/summary', { status: 'failed' }, 'status'],
    ['/api/summary', { models: 'a' }, 'models'],
    ['/api/models', { model: 'x'.repeat(101) }, 'model'],
    ['/api/timeseries', { granularity: 'week' }, 'granularity'],
    ['/api/timeseries', { granularity: 'hour', from: '2026-01-01', to: '2026-03-01' }, 'granularity'],
    ['/api/errors', { limit: '0' }, 'limit'],
    ['/api/errors', { limit: '51' }, 'limit'],
    ['/api/errors', { limit: 'ten' }, 'limit'],
    ['/api/runs', { limit: '201' }, 'limit'],
    ['/api/runs', { format: 'xlsx' }, 'format'],
    ['/api/runs', { cursor: 'garbage!' }, 'cursor'],
    ['/api/runs', { cursor: 'eyJ2IjoxfQ' }, 'cursor'],
    [
      '/api/runs',
      { from: '2026-11-01', to: '2026-11-01', cursor: cursorAt('2026-10-01T10:00:00Z') },
      'cursor',
    ],
    ['/api/runs', { errorType: 'x'.repeat(101) }, 'errorType'],
    ['/api/alarm', { tz: 'Nowhere' }, 'tz'],
    ['/api/health', { page: '2' }, 'page'],
  ])('%s with %o is a 400 naming %s', async (path, query, parameter) => {
    dynamodb.on(QueryCommand).resolves({ Items: [], Count: 0 });
    const { status, body } = await get(path, query);
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_query');
    expect(body.message).toContain(parameter);
    expect(body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: parameter })]));
  });

  it('answers an unknown path with 404 and another method with 405', async () => {
    expect((await get('/api/nothing')).status).toBe(404);
    expect((await get('/api/summary', {}, 'POST')).status).toBe(405);
  });
});

describe('GET /api/alarm', () => {
  /** Hour items of one model holding `successes` and `failures` runs started in the current minute. */
  const runsInWindow = (successes: number, failures: number) => {
    const nowMs = Date.now();
    const minute = String(new Date(nowMs).getUTCMinutes()).padStart(2, '0');
    const counts: Record<string, { N: string }> = {};
    if (successes > 0) counts[`sq${minute}`] = { N: String(successes) };
    if (failures > 0) counts[`fq${minute}`] = { N: String(failures) };
    return {
      Responses: {
        Aggregates: [
          {
            pk: { S: 'A#H#claude-sonnet-4' },
            sk: { S: new Date(nowMs).toISOString().slice(0, 13) },
            ...counts,
          },
        ],
      },
    };
  };
  const oneModel = { Items: [{ pk: { S: 'MODELS' }, sk: { S: 'claude-sonnet-4' } }], Count: 1 };

  it("adds the CloudWatch alarm's own state when deployed", async () => {
    dynamodb.on(QueryCommand).resolves(oneModel);
    dynamodb.on(BatchGetItemCommand).resolves(runsInWindow(9, 1));
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'fixer-success-rate', StateValue: 'OK' }] });
    const { status, body } = await get('/api/alarm');
    expect(status).toBe(200);
    expect(body).toEqual({
      state: 'OK',
      threshold: 0.85,
      windowMinutes: 60,
      minExecutions: 10,
      executions: 10,
      successRate: 0.9,
      cloudwatchState: 'OK',
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input.AlarmNames).toEqual([
      'fixer-success-rate',
    ]);
  });

  it('reports INSUFFICIENT_DATA below the minimum, and a null CloudWatch state when asking fails', async () => {
    dynamodb.on(QueryCommand).resolves(oneModel);
    dynamodb.on(BatchGetItemCommand).resolves(runsInWindow(2, 5));
    cloudwatch.on(DescribeAlarmsCommand).rejects(new Error('AccessDenied'));
    const { body } = await get('/api/alarm');
    expect(body).toMatchObject({ state: 'INSUFFICIENT_DATA', executions: 7, cloudwatchState: null });
  });

  it('reads two hour items per model, whatever the runs, and no run index', async () => {
    dynamodb.on(QueryCommand).resolves(oneModel);
    dynamodb.on(BatchGetItemCommand).resolves(runsInWindow(5_000, 5_000));
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const { body } = await get('/api/alarm');
    expect(body).toMatchObject({ state: 'ALARM', executions: 10_000 });
    const keys = dynamodb
      .commandCalls(BatchGetItemCommand)
      .flatMap((call) =>
        Object.values(call.args[0].input.RequestItems ?? {}).flatMap((request) => request.Keys ?? []),
      );
    expect(keys.length).toBeLessThanOrEqual(2);
    for (const call of dynamodb.commandCalls(QueryCommand))
      expect(call.args[0].input.IndexName).toBeUndefined();
  });
});

describe('read metering', () => {
  it('reports the items and capacity a request read', async () => {
    dynamodb.on(QueryCommand).resolves({
      Items: [{ pk: { S: 'MODELS' }, sk: { S: 'm' } }],
      Count: 1,
      ScannedCount: 1,
      ConsumedCapacity: { CapacityUnits: 0.5 },
    });
    const { headers, body } = await get('/api/health');
    expect(body).toEqual({ status: 'ok' });
    expect(headers).toMatchObject({ 'x-items-read': '1', 'x-read-capacity-units': '0.5' });
  });

  it('reads one registry item for health, however many models were ever seen (the route is open)', async () => {
    await get('/api/health');
    const calls = dynamodb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({ Limit: 1 });
  });
});

describe('GET /api/runs?format=csv size guard', () => {
  it('counts UTF-8 bytes of the escaped body: 2,000-character CJK messages pass 5.5 MB long before 5.5 M characters', async () => {
    const { toRunItem } = await import('../../../functions/store/run-item');
    const { marshall } = await import('@aws-sdk/util-dynamodb');
    const { validateExecution } = await import('../../../functions/domain/execution');
    const items = Array.from({ length: 1_500 }, (_, index) => {
      const result = validateExecution({
        executionId: `cjk-${index}`,
        startTime: new Date(Date.parse('2026-11-01T10:00:00Z') + index * 1000).toISOString(),
        endTime: new Date(Date.parse('2026-11-01T10:00:00Z') + index * 1000 + 5000).toISOString(),
        status: 'failure',
        model: 'm',
        inputTokens: 1,
        outputTokens: 1,
        errorType: 'E',
        errorMessage: '漢'.repeat(2_000),
      });
      if (!result.ok) throw new Error('fixture');
      return marshall(toRunItem(result.record, 90), { removeUndefinedValues: true });
    });
    dynamodb
      .on(QueryCommand)
      .resolvesOnce({ Items: items, Count: items.length })
      .resolves({ Items: [], Count: 0 });
    const { status, body } = await get('/api/runs', { format: 'csv', from: '2026-11-01', to: '2026-11-01' });
    expect(status).toBe(400);
    expect(body.issues).toEqual([
      {
        path: 'to',
        message: expect.stringMatching(/passes the 5.5 MB .* narrow from\.\.to or filter by model/),
      },
    ]);
  });
});
