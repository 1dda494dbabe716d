/**
 * The query API against DynamoDB Local: a known data set goes in through the
 * ingest handler, the stream is drained through the aggregate handler, and
 * every GET endpoint is compared with the truth computed from the raw runs.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setDefaultEmfSink } from '../../functions/store/metrics-emitter';
import { asFunction, type Callable, runAs, withoutGrant } from '../../local/permission-guard';
import { type DynamoFixture, enforceRoles, startDynamoFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../support/events';
import { type DatasetRun, errorCountsOf, generateRuns, selectRuns, truthOf } from '../support/run-dataset';

const RANGE_START = Date.parse('2026-10-18T00:00:00Z');
const RANGE_END = Date.parse('2026-11-07T00:00:00Z');
const NY_WEEK = {
  startMs: Date.parse('2026-10-28T00:00:00-04:00'),
  endMs: Date.parse('2026-11-04T00:00:00-05:00'),
};

function expectWithin2Percent(actual: number | null, expected: number | null) {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected) / expected).toBeLessThanOrEqual(0.02);
}

describe('query API on DynamoDB Local', () => {
  let fixture: DynamoFixture;
  let handlers: {
    ingest: (
      event: unknown,
      context: typeof lambdaContext,
    ) => Promise<{ statusCode?: number; body?: string }>;
    query: Callable<typeof import('../../functions/query').handler>;
    aggregate: ReturnType<typeof import('../../functions/aggregate').createAggregateHandler>;
  };
  let rawQuery: Callable<typeof import('../../functions/query').handler>;
  let runs: DatasetRun[];
  const nowMs = Date.now();

  async function ingest(batch: DatasetRun[]) {
    for (let index = 0; index < batch.length; index += 100) {
      const body = JSON.stringify({ executions: batch.slice(index, index + 100) });
      const response = await handlers.ingest(httpEvent('POST', '/api/executions', { body }), lambdaContext);
      expect(response.statusCode).toBe(202);
    }
  }

  async function drainStream() {
    for (const { shardId, records } of await fixture.readStream()) {
      const response = await handlers.aggregate({ Records: records, shardId });
      expect(response.batchItemFailures).toEqual([]);
    }
  }

  async function get(path: string, query: Record<string, string> = {}) {
    const response = await handlers.query(httpEvent('GET', path, { query }), lambdaContext);
    const contentType = String(response.headers?.['content-type'] ?? '');
    return {
      status: response.statusCode,
      headers: response.headers ?? {},
      body: contentType.startsWith('application/json') ? JSON.parse(response.body ?? '') : response.body,
    };
  }

  beforeAll(async () => {
    fixture = await startDynamoFixture();
    await enforceRoles();
    const { createAggregateHandler } = await import('../../functions/aggregate');
    rawQuery = (await import('../../functions/query')).handler;
    handlers = {
      ingest: asFunction('ingest', (await import('../../functions/ingest')).handler) as never,
      query: asFunction('query', rawQuery),
      aggregate: asFunction('aggregate', createAggregateHandler({ emfSink: () => undefined })),
    };
    // The recent runs feed the alarm: 12 successes and 3 failures in the last
    // 50 minutes. Each ends by now: ingest refuses runs that end in the future.
    const recent = generateRuns(15, nowMs - 50 * 60_000, nowMs - 60_000, 11, 'now').map((run, index) => ({
      ...run,
      endTime: new Date(Math.min(Date.parse(run.endTime), nowMs - 30_000)).toISOString(),
      status: index < 3 ? ('failure' as const) : ('success' as const),
      errorType: index < 3 ? 'Timeout' : undefined,
      filesModified: index < 3 ? 0 : run.filesModified,
    }));
    runs = [...generateRuns(900, RANGE_START, RANGE_END), ...recent];
    await ingest(runs);
    await drainStream();
  });
  afterAll(async () => fixture?.stop());

  it('summarises a New York week across the DST change, with the week before as previous', async () => {
    const { status, body } = await get('/api/summary', {
      from: '2026-10-28',
      to: '2026-11-03',
      tz: 'America/New_York',
    });
    expect(status).toBe(200);
    const truth = truthOf(selectRuns(runs, NY_WEEK));
    expect(body).toMatchObject({
      from: '2026-10-28T00:00:00-04:00',
      to: '2026-11-04T00:00:00-05:00',
      tz: 'America/New_York',
      executions: truth.executions,
      successes: truth.successes,
      failures: truth.failures,
    });
    expect(body.successRate).toBeCloseTo(truth.successRate ?? Number.NaN, 12);
    expect(body.cost.totalUsd).toBeCloseTo(truth.costUsd, 9);
    expect(body.cost.reportedUsd).toBeCloseTo(truth.reportedCostUsd, 9);
    expect(body.cost.estimatedUsd).toBeCloseTo(truth.estimatedCostUsd, 9);
    // The data set has runs without a cost on a priced model and on models without a price.
    expect(truth.runsWithEstimatedCost).toBeGreaterThan(0);
    expect(truth.runsWithUnknownCost).toBeGreaterThan(0);
    expect(body.cost.runsWithEstimatedCost).toBe(truth.runsWithEstimatedCost);
    expect(body.cost.runsWithUnknownCost).toBe(truth.runsWithUnknownCost);
    expect(body.cacheHitRate).toBeCloseTo(truth.cacheHitRate ?? Number.NaN, 12);
    expect(body.durationMs.avg).toBeCloseTo(truth.durationAvg ?? Number.NaN, 6);
    expectWithin2Percent(body.durationMs.p50, truth.durationP50);
    expectWithin2Percent(body.durationMs.p95, truth.durationP95);
    expectWithin2Percent(body.durationMs.p99, truth.durationP99);

    const previousTruth = truthOf(
      selectRuns(runs, { startMs: Date.parse('2026-10-21T00:00:00-04:00'), endMs: NY_WEEK.startMs }),
    );
    expect(body.previous.executions).toBe(previousTruth.executions);
    expect(body.previous.costTotalUsd).toBeCloseTo(previousTruth.costUsd, 9);
    expectWithin2Percent(body.previous.durationP95Ms, previousTruth.durationP95);
  });

  it('fails the New York summary with a 500 once BatchGetItem is taken from the query role, as AWS would', async () => {
    // The edge hours of a local day are read with BatchGetItem: without that
    // grant, AWS answers AccessDeniedException and the handler answers 500.
    const withoutBatchGet = withoutGrant('query', 'dynamodb:BatchGetItem');
    const event = httpEvent('GET', '/api/summary', {
      query: { from: '2026-10-28', to: '2026-11-03', tz: 'America/New_York' },
    });
    const emitted: string[] = [];
    setDefaultEmfSink((line) => void emitted.push(line));
    const response = await runAs('query', () => rawQuery(event, lambdaContext), withoutBatchGet).finally(() =>
      setDefaultEmfSink(undefined),
    );
    expect(response.statusCode).toBe(500);
    // Lambda counts that as a success; the handler's own metric is what the 5xx alarm reads.
    expect(emitted.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ Function: 'query', ServerErrorResponses: 1 }),
    ]);
    const granted = await runAs('query', () => rawQuery(event, lambdaContext));
    expect(granted.statusCode).toBe(200);
  });

  it('filters by model and status; status=success has a success rate of 1', async () => {
    const models = ['gpt-5#mini', 'llama-4'];
    const { body } = await get('/api/summary', {
      from: '2026-10-20',
      to: '2026-11-05',
      model: models.join(','),
      status: 'success',
    });
    const truth = truthOf(
      selectRuns(runs, {
        startMs: Date.parse('2026-10-20T00:00:00Z'),
        endMs: Date.parse('2026-11-06T00:00:00Z'),
        models,
        status: 'success',
      }),
    );
    expect(body.executions).toBe(truth.executions);
    expect(body.failures).toBe(0);
    expect(body.successRate).toBe(1);
    expect(body.cost.totalUsd).toBeCloseTo(truth.costUsd, 9);
  });

  it('returns every local day of the week, 25 hours on the DST day, labelled with its offset', async () => {
    const { body } = await get('/api/timeseries', {
      from: '2026-10-28',
      to: '2026-11-03',
      tz: 'America/New_York',
    });
    expect(body.granularity).toBe('day');
    expect(body.buckets.map((bucket: { start: string }) => bucket.start)).toEqual([
      '2026-10-28T00:00:00-04:00',
      '2026-10-29T00:00:00-04:00',
      '2026-10-30T00:00:00-04:00',
      '2026-10-31T00:00:00-04:00',
      '2026-11-01T00:00:00-04:00',
      '2026-11-02T00:00:00-05:00',
      '2026-11-03T00:00:00-05:00',
    ]);
    const starts = body.buckets.map((bucket: { start: string }) => Date.parse(bucket.start));
    starts.push(NY_WEEK.endMs);
    body.buckets.forEach(
      (
        bucket: {
          executions: number;
          costUsd: number;
          durationMs: { p95: number | null };
          anomalies: unknown;
        },
        index: number,
      ) => {
        const truth = truthOf(selectRuns(runs, { startMs: starts[index], endMs: starts[index + 1] }));
        expect(bucket.executions).toBe(truth.executions);
        expect(bucket.costUsd).toBeCloseTo(truth.costUsd, 9);
        expectWithin2Percent(bucket.durationMs.p95, truth.durationP95);
        expect(Array.isArray(bucket.anomalies)).toBe(true);
      },
    );
  });

  it('returns 24 hour buckets for one UTC day, empty ones with zeros and null rates', async () => {
    const { body } = await get('/api/timeseries', { from: '2026-11-01', to: '2026-11-01' });
    expect(body.granularity).toBe('hour');
    expect(body.buckets).toHaveLength(24);
    for (const [index, bucket] of body.buckets.entries()) {
      const startMs = Date.parse('2026-11-01T00:00:00Z') + index * 3_600_000;
      expect(bucket.start).toBe(new Date(startMs).toISOString().replace('.000Z', 'Z'));
      const truth = truthOf(selectRuns(runs, { startMs, endMs: startMs + 3_600_000 }));
      expect(bucket.executions).toBe(truth.executions);
      if (truth.executions === 0) expect(bucket.successRate).toBeNull();
    }
    const empty = await get('/api/timeseries', { from: '2020-01-01', to: '2020-01-03' });
    expect(empty.body.buckets).toHaveLength(3);
    expect(empty.body.buckets[0]).toMatchObject({
      executions: 0,
      successRate: null,
      costPerRunUsd: null,
      anomalies: [],
    });
  });

  it('compares models, most executions first', async () => {
    const { body } = await get('/api/models', { from: '2026-10-18', to: '2026-11-06' });
    const window = { startMs: RANGE_START, endMs: RANGE_END };
    const expected = ['claude-sonnet-4', 'gpt-5#mini', 'gemini-2.5-pro', 'llama-4']
      .map((model) => ({ model, truth: truthOf(selectRuns(runs, { ...window, models: [model] })) }))
      .sort((a, b) => b.truth.executions - a.truth.executions);
    expect(body.models.map((row: { model: string }) => row.model)).toEqual(expected.map((row) => row.model));
    for (const [index, { truth }] of expected.entries()) {
      const row = body.models[index];
      expect(row.executions).toBe(truth.executions);
      expect(row.costUsd).toBeCloseTo(truth.costUsd, 9);
      expect(row.filesModifiedPerSuccessfulRun).toBeCloseTo(
        truth.filesModifiedPerSuccessfulRun ?? Number.NaN,
        9,
      );
      expectWithin2Percent(row.durationMs.p95, truth.durationP95);
    }
  });

  it('registers every model with the first and last UTC day of its runs, as DynamoDB evaluates the conditions', async () => {
    const truth = new Map<string, { first: string; last: string }>();
    for (const run of runs) {
      const day = run.startTime.slice(0, 10);
      const known = truth.get(run.model);
      truth.set(run.model, {
        first: known && known.first < day ? known.first : day,
        last: known && known.last > day ? known.last : day,
      });
    }
    const { Items = [] } = await fixture.client.send(
      new QueryCommand({
        TableName: 'Aggregates',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'MODELS' } },
        ConsistentRead: true,
      }),
    );
    const registered = new Map(Items.map((item) => [item.sk?.S, { first: item.f?.S, last: item.l?.S }]));
    expect(registered).toEqual(truth);
  });

  it('ranks error types with share and other, and failure rates by model', async () => {
    const { body } = await get('/api/errors', { from: '2026-10-18', to: '2026-11-06', limit: '3' });
    const failing = selectRuns(runs, { startMs: RANGE_START, endMs: RANGE_END });
    const counts = [...errorCountsOf(failing)].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const total = counts.reduce((sum, [, count]) => sum + count, 0);
    expect(body.totalFailures).toBe(total);
    expect(body.errors).toEqual(
      counts.slice(0, 3).map(([errorType, count]) => ({ errorType, count, share: count / total })),
    );
    expect(body.other.count).toBe(counts.slice(3).reduce((sum, [, count]) => sum + count, 0));
    const llama = truthOf(selectRuns(runs, { startMs: RANGE_START, endMs: RANGE_END, models: ['llama-4'] }));
    expect(body.byModel.find((row: { model: string }) => row.model === 'llama-4')).toEqual({
      model: 'llama-4',
      failures: llama.failures,
      executions: llama.executions,
      failureRate: llama.failures / llama.executions,
    });
  });

  it('pages runs newest first with a cursor, skipping and repeating nothing while runs are written', async () => {
    const window = { startMs: Date.parse('2026-10-31T00:00:00Z'), endMs: Date.parse('2026-11-03T00:00:00Z') };
    const expected = selectRuns(runs, window)
      .sort(
        (a, b) =>
          Date.parse(b.startTime) - Date.parse(a.startTime) || (a.executionId < b.executionId ? 1 : -1),
      )
      .map((run) => run.executionId);
    const seen: string[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const query: Record<string, string> = { from: '2026-10-31', to: '2026-11-02', limit: '17' };
      if (cursor) query.cursor = cursor;
      const { status, body } = await get('/api/runs', query);
      expect(status).toBe(200);
      seen.push(...body.runs.map((run: { executionId: string }) => run.executionId));
      cursor = body.nextCursor;
      if (page === 1) {
        // Concurrent writes on both sides of the cursor: one newer, one older than the page.
        await ingest([
          {
            ...runs[0]!,
            executionId: 'late-newest',
            startTime: '2026-11-02T23:59:00Z',
            endTime: '2026-11-02T23:59:30Z',
          },
          {
            ...runs[0]!,
            executionId: 'late-oldest',
            startTime: '2026-10-31T00:00:01Z',
            endTime: '2026-10-31T00:01:00Z',
          },
        ]);
      }
      page++;
    } while (cursor);
    expect(seen.filter((id) => id !== 'late-oldest')).toEqual(expected);
    expect(seen).toContain('late-oldest'); // written behind the cursor: read in turn
    expect(seen).not.toContain('late-newest'); // written ahead of the cursor: the next refresh shows it

    const first = (await get('/api/runs', { from: '2026-10-31', to: '2026-11-02', limit: '1' })).body.runs[0];
    expect(first).toMatchObject({ executionId: 'late-newest' });
    expect(first.durationMs).toBe(30_000);

    // 20 days of 16 shards pass one page's read budget: follow the cursor.
    const failures: unknown[] = [];
    let next: string | null = null;
    do {
      const query: Record<string, string> = {
        from: '2026-10-18',
        to: '2026-11-06',
        errorType: 'Unknown',
        limit: '200',
      };
      if (next) query.cursor = next;
      const { body } = await get('/api/runs', query);
      failures.push(...body.runs);
      next = body.nextCursor;
    } while (next);
    const unknown = selectRuns(runs, { startMs: RANGE_START, endMs: RANGE_END, status: 'failure' }).filter(
      (run) => run.errorType === undefined,
    );
    expect(failures).toHaveLength(unknown.length);
  });

  it('exports every run of the range as CSV with a header row', async () => {
    const { status, headers, body } = await get('/api/runs', {
      from: '2026-10-25',
      to: '2026-10-26',
      format: 'csv',
    });
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(headers['content-disposition']).toMatch(/^attachment; filename="runs-.*\.csv"$/);
    const expected = selectRuns(runs, {
      startMs: Date.parse('2026-10-25T00:00:00Z'),
      endMs: Date.parse('2026-10-27T00:00:00Z'),
    });
    const lines = (body as string).split('\r\n').filter(Boolean);
    expect(lines[0]).toMatch(/^executionId,startTime,endTime,durationMs,status,model/);
    // Error messages hold quotes and line breaks: count records by their ids instead of by lines.
    const ids = expected.map((run) => run.executionId);
    expect(ids.filter((id) => (body as string).includes(`\r\n${id},`))).toHaveLength(ids.length);
  });

  it('applies the 85 % rule to the trailing 60 minutes', async () => {
    const { body } = await get('/api/alarm');
    expect(body).toEqual({
      state: 'ALARM',
      threshold: 0.85,
      windowMinutes: 60,
      minExecutions: 10,
      executions: 15,
      successRate: 12 / 15,
    });
    const oneModel = await get('/api/alarm', { model: 'no-such-model' });
    expect(oneModel.body).toMatchObject({ state: 'INSUFFICIENT_DATA', executions: 0, successRate: null });
  });

  it('reports items read that do not depend on the number of runs', async () => {
    const query = { from: '2026-10-18', to: '2026-11-06', tz: 'Asia/Tokyo' };
    const { headers } = await get('/api/summary', query);
    // 4 registered models; per model and period: 2 hour spans + 1 day span.
    expect(Number(headers['x-items-read'])).toBeGreaterThan(0);
    expect(Number(headers['x-items-read'])).toBeLessThan(4 * 2 * (20 + 2 * 24) + 4);
    const health = await get('/api/health');
    expect(health.body).toEqual({ status: 'ok' });
  });

  it('answers concurrent requests that share reads as it answers them one by one, items metered per request', async () => {
    const requests: [string, Record<string, string>][] = [
      ['/api/summary', { from: '2026-10-18', to: '2026-11-06', tz: 'America/New_York' }],
      ['/api/models', { from: '2026-10-18', to: '2026-11-06' }],
      ['/api/errors', { from: '2026-10-18', to: '2026-11-06' }],
      ['/api/timeseries', { from: '2026-10-18', to: '2026-11-06', tz: 'America/New_York' }],
    ];
    const alone = [];
    for (const [path, query] of requests) alone.push(await get(path, query));
    const together = await Promise.all([...requests, ...requests].map(([path, query]) => get(path, query)));
    for (const [index, response] of together.entries()) {
      const expected = alone[index % requests.length]!;
      expect(response.body).toEqual(expected.body);
      expect(response.headers['x-items-read']).toBe(expected.headers['x-items-read']);
    }
  });
});
