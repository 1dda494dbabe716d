/**
 * The read budget of the aggregate GETs: a plan over READ_BUDGET is a 400
 * that names the parameter and says how to narrow the request, decided
 * before any aggregate is read; a plan within it reads at most its items in
 * at most its calls. And the size of what they answer: a Lambda response
 * carries at most 6 MB, and the JSON of tens of thousands of models (a label
 * is whatever an agent sends) would pass it, for API Gateway to answer a
 * 5xx; the handler refuses it as a 400 naming `model` instead.
 */
import { BatchGetItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpEvent, lambdaContext } from '../../support/events';

vi.hoisted(() => {
  Object.assign(process.env, {
    EXECUTIONS_TABLE_NAME: 'Executions',
    AGGREGATES_TABLE_NAME: 'Aggregates',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});

const dynamodb = mockClient(DynamoDBClient);
let handler: typeof import('../../../functions/query').handler;
let READ_BUDGET: typeof import('../../../functions/store/aggregates-reader').READ_BUDGET;

beforeAll(async () => {
  handler = (await import('../../../functions/query')).handler;
  READ_BUDGET = (await import('../../../functions/store/aggregates-reader')).READ_BUDGET;
});
afterEach(() => dynamodb.reset());

const modelNames = (count: number) => Array.from({ length: count }, (_, index) => `model-${index}`);

/** A registry entry: a name, or a name with the first and last day it has runs on. */
type Registered = string | { model: string; first: string; last: string };

/** Answers every read with nothing, the registry with `registry`, and counts what was asked. */
function emptyStore(registry: readonly Registered[] = []) {
  const asked = { calls: 0, keys: 0 };
  dynamodb
    .on(QueryCommand)
    .callsFake((input: { ExpressionAttributeValues?: Record<string, { S?: string }> }) => {
      asked.calls++;
      if (input.ExpressionAttributeValues?.[':pk']?.S === 'MODELS')
        return {
          Items: registry.map((entry) =>
            typeof entry === 'string'
              ? { pk: { S: 'MODELS' }, sk: { S: entry } }
              : { pk: { S: 'MODELS' }, sk: { S: entry.model }, f: { S: entry.first }, l: { S: entry.last } },
          ),
          Count: registry.length,
        };
      return { Items: [], Count: 0 };
    });
  dynamodb
    .on(BatchGetItemCommand)
    .callsFake((input: { RequestItems: Record<string, { Keys: unknown[] }> }) => {
      asked.calls++;
      asked.keys += Object.values(input.RequestItems).reduce((sum, { Keys }) => sum + Keys.length, 0);
      return { Responses: {} };
    });
  return asked;
}

async function get(path: string, query: Record<string, string>) {
  const response = await handler(httpEvent('GET', path, { query }), lambdaContext);
  return { status: response.statusCode, body: JSON.parse(response.body ?? '{}') };
}

/** The answer and the length of its body. */
async function getSized(path: string, query: Record<string, string>) {
  const response = await handler(httpEvent('GET', path, { query }), lambdaContext);
  const body = response.body ?? '{}';
  return { status: response.statusCode, body: JSON.parse(body), bytes: body.length };
}

const YEAR = { from: '2025-10-01', to: '2026-11-04' };

describe('the read budget', () => {
  it('refuses 50 models × 400 days of Kolkata timeseries with a 400 naming model, before any read', async () => {
    // Prepare
    const asked = emptyStore();

    // Act
    const answer = await get('/api/timeseries', {
      ...YEAR,
      tz: 'Asia/Kolkata',
      granularity: 'day',
      model: modelNames(50).join(','),
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_query');
    expect(answer.body.issues).toEqual([{ path: 'model', message: expect.any(String) }]);
    expect(answer.body.issues[0].message).toMatch(
      /would read up to 145,200 aggregate items in 1,295 calls \(50 models\); one request may read at most 60,000 items in 400 calls: name at most 15 models with model=, or narrow from\.\.to/,
    );
    expect(asked.calls).toBe(0);
  });

  it('takes the number of models it can serve: 15 of them over the same Kolkata year', async () => {
    // Prepare
    const asked = emptyStore();

    // Act
    const answer = await get('/api/timeseries', {
      ...YEAR,
      tz: 'Asia/Kolkata',
      granularity: 'day',
      model: modelNames(15).join(','),
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(asked.calls).toBeLessThanOrEqual(READ_BUDGET.calls);
    expect(asked.keys).toBeLessThanOrEqual(READ_BUDGET.items);
  });

  it('without a model filter, reads only the registry before refusing a per-model plan over its models', async () => {
    // Prepare
    emptyStore(modelNames(200));

    // Act
    const answer = await get('/api/models', { ...YEAR, tz: 'Asia/Kolkata' });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.issues[0]).toMatchObject({ path: 'model' });
    expect(answer.body.issues[0].message).toContain('(200 models)');
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('without a model filter, serves a timeseries from the all-models rollup, not the registry', async () => {
    // Prepare
    emptyStore(modelNames(200));

    // Act
    const answer = await get('/api/timeseries', { ...YEAR, tz: 'Asia/Kolkata', granularity: 'day' });

    // Assess
    expect(answer.status).toBe(200);
    const series = dynamodb
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues?.[':pk']?.S);
    expect(series).toContain('A#D#');
    expect(series.filter((pk) => pk !== 'A#D#' && pk !== 'A#H#')).toEqual([]);
  });

  it.each([
    ['/api/summary', {}],
    ['/api/models', {}],
    ['/api/errors', {}],
    ['/api/timeseries', { granularity: 'day' }],
  ])('serves %s for 50 models over 30 days in the farthest zone from UTC', async (path, extra) => {
    // Prepare
    emptyStore();

    // Act
    const answer = await get(path, {
      from: '2026-10-06',
      to: '2026-11-04',
      tz: 'Pacific/Fiji',
      model: modelNames(50).join(','),
      ...extra,
    });

    // Assess
    expect(answer.status).toBe(200);
  });

  it('reads 30 days of 1,000 models by BatchGetItem, where a Query per model would pass 400 calls', async () => {
    // Prepare
    const asked = emptyStore(modelNames(1_000));

    // Act
    const answer = await get('/api/errors', { from: '2026-10-06', to: '2026-11-04' });

    // Assess
    expect(answer.status).toBe(200);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(1); // the registry
    expect(asked.keys).toBe(30_000);
    expect(dynamodb.commandCalls(BatchGetItemCommand)).toHaveLength(300);
  });

  it('refuses 30 days of 2,001 models, naming the 1,333 that 400 calls of 100 keys read', async () => {
    // Prepare
    const asked = emptyStore(modelNames(2_001));

    // Act
    const answer = await get('/api/models', { from: '2026-10-06', to: '2026-11-04' });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.issues[0].message).toMatch(
      /60,030 aggregate items in 2,001 calls \(2,001 models\).* name at most 1,333 models with model=/,
    );
    expect(asked.keys).toBe(0);
  });

  it('reads no model whose registered days all lie outside the range; one registered without days, always', async () => {
    // Prepare: 1,000 models of a bad day in January, two of November, one registered before days were kept.
    const january = modelNames(1_000).map((model) => ({ model, first: '2026-01-15', last: '2026-01-15' }));
    const asked = emptyStore([
      ...january,
      { model: 'until-nov-10', first: '2025-06-01', last: '2026-11-10' },
      { model: 'from-nov-20', first: '2026-11-20', last: '2026-12-02' },
      'undated',
    ]);

    // Act
    const answer = await get('/api/errors', { from: '2026-11-05', to: '2026-11-15' });

    // Assess: the two models that may have runs in it, 11 days each.
    expect(answer.status).toBe(200);
    const series = dynamodb
      .commandCalls(BatchGetItemCommand)
      .flatMap(({ args }) => Object.values(args[0].input.RequestItems ?? {}))
      .flatMap(({ Keys }) => (Keys ?? []).map((key) => key.pk?.S));
    expect(new Set(series)).toEqual(new Set(['A#D#undated', 'A#D#until-nov-10']));
    expect(asked.keys).toBe(22);
  });

  it('serves a 400-day summary of 50 models in a half-hour zone', async () => {
    // Prepare
    emptyStore();

    // Act
    const answer = await get('/api/summary', {
      ...YEAR,
      tz: 'Asia/Kolkata',
      model: modelNames(50).join(','),
    });

    // Assess
    expect(answer.status).toBe(200);
  });

  it('never sends more calls or keys than the budget: any GET, range, zone and number of models', async () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Asia/Kolkata',
      'Asia/Kathmandu',
      'Pacific/Chatham',
      'Pacific/Fiji',
    ];
    const day = (offset: number) =>
      new Date(Date.UTC(2025, 9, 1) + offset * 86_400_000).toISOString().slice(0, 10);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/summary', '/api/timeseries', '/api/models', '/api/errors', '/api/alarm'),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 399 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 50 }),
        async (path, tz, start, days, models) => {
          dynamodb.reset();
          const asked = emptyStore();
          const answer = await get(path, {
            from: day(start),
            to: day(Math.min(start + days, 400)),
            tz,
            model: modelNames(models).join(','),
            ...(path === '/api/timeseries' ? { granularity: 'day' } : {}),
          });
          if (answer.status === 400) {
            expect(answer.body.issues[0].path).toMatch(/^(model|from|to)$/);
            expect(asked.calls).toBe(0);
          } else {
            expect(answer.status).toBe(200);
            expect(asked.calls).toBeLessThanOrEqual(READ_BUDGET.calls);
            expect(asked.keys).toBeLessThanOrEqual(READ_BUDGET.items);
          }
        },
      ),
      { numRuns: 40, seed: 20261202 },
    );
  }, 60_000);
});

/** `count` models of 100 characters, each with one successful run in every item read. */
function storeOfModels(count: number) {
  const names = Array.from({ length: count }, (_, index) => `m${String(index).padStart(99, '-')}`);
  dynamodb
    .on(QueryCommand)
    .callsFake((input: { ExpressionAttributeValues?: Record<string, { S?: string }> }) => {
      if (input.ExpressionAttributeValues?.[':pk']?.S !== 'MODELS') return { Items: [], Count: 0 };
      return { Items: names.map((name) => ({ pk: { S: 'MODELS' }, sk: { S: name } })), Count: names.length };
    });
  dynamodb
    .on(BatchGetItemCommand)
    .callsFake((input: { RequestItems: Record<string, { Keys: Record<string, { S: string }>[] }> }) => ({
      Responses: Object.fromEntries(
        Object.entries(input.RequestItems).map(([table, { Keys }]) => [
          table,
          Keys.map((key) => ({ ...key, sn: { N: '1' }, sd: { N: '60000' } })),
        ]),
      ),
    }));
  return names;
}

const ONE_HOUR = { from: '2026-11-04T10:00:00Z', to: '2026-11-04T11:00:00Z' };

describe('the size of an answer', () => {
  it('refuses the models of an hour that 30,000 models had runs in with a 400 naming model, not a 6 MB answer', async () => {
    // Prepare
    storeOfModels(30_000);

    // Act
    const answer = await getSized('/api/models', ONE_HOUR);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_query');
    expect(answer.body.issues[0].path).toBe('model');
    expect(answer.body.message).toMatch(
      /over the 5.5 MB a response can carry; name fewer models with model=/,
    );
  });

  it('answers the same hour in full for 2,000 such models', async () => {
    // Prepare
    const names = storeOfModels(2_000);

    // Act
    const answer = await getSized('/api/models', ONE_HOUR);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.models).toHaveLength(names.length);
    expect(answer.bytes).toBeLessThan(5_500_000);
  });
});
