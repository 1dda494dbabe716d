/**
 * The daily aggregate audit's days, its event and its error paths; what it
 * finds on real data is test/integration/audit.test.ts.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuditHandler } from '../../../functions/audit';
import { auditedDays, MAX_AUDITED_DAYS } from '../../../functions/domain/aggregate-audit';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
});

const dynamodb = mockClient(DynamoDBClient);
afterEach(() => dynamodb.reset());

describe('auditedDays', () => {
  it.each([
    ['2026-12-03T03:30:00Z', ['2026-12-01', '2026-12-02']],
    ['2026-12-03T00:00:00.000Z', ['2026-12-01', '2026-12-02']],
    ['2026-12-03T23:59:59.999Z', ['2026-12-01', '2026-12-02']],
    ['2026-03-01T03:30:00Z', ['2026-02-27', '2026-02-28']],
    ['2027-01-01T03:30:00Z', ['2026-12-30', '2026-12-31']],
  ])('at %s checks the day before yesterday and yesterday, UTC', (at, days) => {
    expect(auditedDays(Date.parse(at))).toEqual(days);
  });
});

describe('the audit handler', () => {
  const NOW = Date.parse('2026-12-03T03:30:00Z');
  const emitted: string[] = [];
  const handler = () =>
    createAuditHandler({
      client: new DynamoDBClient({ region: 'us-east-1' }),
      executionsTableName: 'Executions',
      aggregatesTableName: 'Aggregates',
      settleSeconds: 1,
      retentionDays: 90,
      now: () => NOW,
      emfSink: (line) => void emitted.push(line),
    });

  it.each([
    [{ days: ['2026-02-30'] }, 'days'],
    [{ days: [] }, 'days'],
    [{ days: Array.from({ length: MAX_AUDITED_DAYS + 1 }, () => '2026-12-01') }, 'days'],
    [{ time: 'yesterday' }, 'time'],
  ])('refuses the event %j, naming %s, before reading anything', async (event, field) => {
    await expect(handler()(event)).rejects.toMatchObject({
      name: 'ZodError',
      issues: [expect.objectContaining({ path: expect.arrayContaining([field]) })],
    });
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('skips days whose runs the TTL may have deleted, rather than report their aggregates as wrong', async () => {
    emitted.length = 0;
    const result = await handler()({ days: ['2026-09-01', '2026-09-03'] });
    // 90 days before 2026-12-03 is 2026-09-04: both days may have lost runs.
    expect(result).toMatchObject({ days: [], expiredDays: ['2026-09-01', '2026-09-03'], differing: [] });
    expect(dynamodb.calls()).toHaveLength(0);
    expect(emitted).toEqual([]);
  });

  it('fails the invocation on a read it cannot make, and emits no figure it did not measure', async () => {
    emitted.length = 0;
    dynamodb
      .on(QueryCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler()({ time: '2026-12-03T03:30:00Z' })).rejects.toThrow('Rate exceeded');
    expect(emitted).toEqual([]);
  });
});
