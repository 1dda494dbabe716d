import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { BatchGetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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

const { mockClient } = await import('aws-sdk-client-mock');
const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
const dynamodb = mockClient(DynamoDBClient);
const cloudwatch = mockClient(CloudWatchClient);
let handler: typeof import('../../../functions/query').handler;

/**
 * Time-zone lookups one request may make. A 400-day range in a half-hour
 * zone needs a few thousand; a loop that does not end needs them forever.
 * Past the budget the lookup throws, so a runaway loop fails the request
 * (a 500 the property refuses) instead of hanging the test.
 */
const LOOKUP_BUDGET = 100_000;
let lookups = 0;
const formatToParts = Intl.DateTimeFormat.prototype.formatToParts;
const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');

beforeAll(async () => {
  spy.mockImplementation(function (this: Intl.DateTimeFormat, date?: Date | number) {
    lookups += 1;
    if (lookups > LOOKUP_BUDGET) throw new Error('time-zone lookup budget exceeded');
    return formatToParts.call(this, date);
  });
  handler = (await import('../../../functions/query')).handler;
});
afterAll(() => spy.mockRestore());
beforeEach(() => {
  dynamodb.reset();
  cloudwatch.reset();
  dynamodb.on(QueryCommand).resolves({ Items: [], Count: 0 });
  dynamodb.on(BatchGetItemCommand).resolves({ Responses: {} });
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
});

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
/** Any year 0001–9999, with the days and months of daylight-saving changes and year ends over-weighted. */
const date = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 9999 }), fc.constantFrom(1, 1969, 1970, 2026, 9998, 9999)),
    fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 3, 10, 11, 12)),
    fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constantFrom(1, 2, 25, 26, 27, 28, 29, 30, 31)),
  )
  .map(([year, month, day]) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`);
const dateTime = fc
  .tuple(date, fc.integer({ min: 0, max: 23 }), fc.constantFrom('Z', '+14:00', '-12:00', '+05:30', '+00:00'))
  .map(([day, hour, offset]) => `${day}T${pad(hour)}:00:00${offset}`);
const bound = fc.option(fc.oneof(date, dateTime), { nil: undefined });
const isoDate = (ms: number) => {
  const text = new Date(ms).toISOString();
  return text.startsWith('+') || text.startsWith('-') ? text.slice(3, 13) : text.slice(0, 10);
};
/** A range most endpoints accept: up to 400 days from a date, or the last days of the year 9999. */
const plausibleRange = fc
  .tuple(
    fc.oneof(date, fc.constantFrom('9999-12-30', '9999-12-01', '1970-01-02', '2026-03-08', '2026-11-01')),
    fc.integer({ min: 0, max: 400 }),
  )
  .map(([from, days]) => [from, isoDate(Date.parse(`${from}T00:00:00Z`) + days * 86_400_000)] as const);
const bounds = fc.oneof(fc.tuple(bound, bound), plausibleRange);
const zone = fc.constantFrom(
  'UTC',
  'Pacific/Kiritimati',
  'Pacific/Apia',
  ...Intl.supportedValuesOf('timeZone'),
);
const paths = [
  '/api/health',
  '/api/summary',
  '/api/timeseries',
  '/api/models',
  '/api/errors',
  '/api/runs',
  '/api/alarm',
];

describe('every GET with arbitrary dates and zones', () => {
  it('answers 200 or a 400 naming a parameter, within a bounded number of time-zone lookups', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        bounds,
        zone,
        fc.option(fc.constantFrom('hour', 'day'), { nil: undefined }),
        async (path, [from, to], tz, granularity) => {
          const query: Record<string, string> = { tz };
          if (from !== undefined) query.from = from;
          if (to !== undefined) query.to = to;
          if (granularity !== undefined && path === '/api/timeseries') query.granularity = granularity;
          lookups = 0;
          const response = await handler(httpEvent('GET', path, { query }), lambdaContext);
          const body = JSON.parse(response.body ?? '{}');
          expect(lookups).toBeLessThanOrEqual(LOOKUP_BUDGET);
          if (response.statusCode === 400)
            expect(body.issues).toEqual(
              expect.arrayContaining([
                expect.objectContaining({ path: expect.stringMatching(/^(from|to|granularity)$/) }),
              ]),
            );
          else expect(response.statusCode).toBe(200);
        },
      ),
      { numRuns: 400 },
    );
  });

  it.each(paths)('%s refuses to=9999-12-31 naming to, and from=0001-01-01 naming from', async (path) => {
    for (const [query, field] of [
      [{ to: '9999-12-31' }, 'to'],
      [{ from: '9999-12-31T23:00:00Z', to: '9999-12-31T23:00:00Z' }, 'from'],
      [{ from: '0001-01-01', to: '0001-01-02' }, 'from'],
    ] as const) {
      const response = await handler(httpEvent('GET', path, { query }), lambdaContext);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body ?? '{}').issues).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: field })]),
      );
    }
  });

  it('answers the last accepted days, 9999-12-30 in the zones furthest from UTC', async () => {
    for (const tz of ['Pacific/Kiritimati', 'Etc/GMT+12', 'Asia/Kathmandu']) {
      const query = { tz, from: '9999-12-01', to: '9999-12-30', granularity: 'day' };
      const response = await handler(httpEvent('GET', '/api/timeseries', { query }), lambdaContext);
      expect(response.statusCode).toBe(200);
    }
  });
});
