/**
 * The daily aggregate audit (functions/audit.ts) against the whole local
 * system, its stream as 2 shards: runs are ingested and aggregated, then the
 * audit runs as the `audit` function, under the local IAM guard with the
 * grants the stack gives it. It must find nothing on exact aggregates, name
 * a corrupted item and emit it as AggregateMismatches, and fail, as AWS
 * would, without its Query grant.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditResult, createAuditHandler } from '../../functions/audit';
import { metricNames } from '../../functions/domain/alarm-rule';
import { aggregateSeriesPk } from '../../functions/store/aggregate-keys';
import { localAwsSettings } from '../../local/dynamodb-local';
import { installPermissionGuard, runAs, withoutGrant } from '../../local/permission-guard';
import { postWithRetry } from '../reliability/lib/http';
import { dynamoClient } from '../reliability/lib/truth';
import { useTestRuntime } from '../support/test-runtime';

const DAYS = ['2026-11-20', '2026-11-21'] as const;
/** The schedule's time on the day after DAYS: it audits exactly DAYS. */
const SCHEDULED_AT = '2026-11-22T03:30:00Z';
const HOUR_MS = 3_600_000;

function runsOf(day: string, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const startMs = Date.parse(`${day}T00:00:00Z`) + (index % 24) * HOUR_MS + index * 1_000;
    const failed = index % 4 === 0;
    return {
      executionId: `audit-${day}-${index}`,
      startTime: new Date(startMs).toISOString(),
      endTime: new Date(startMs + 30_000 + index * 100).toISOString(),
      status: failed ? 'failure' : 'success',
      model: index % 2 === 0 ? 'audit-sonnet' : 'audit-haiku',
      inputTokens: 500 + index,
      outputTokens: 50,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      costUsd: 0.002,
      llmCalls: 1,
      toolCalls: 1,
      filesModified: failed ? 0 : 1,
      ...(failed ? { errorType: 'Timeout' } : {}),
    };
  });
}

describe('the daily aggregate audit (2 shards)', () => {
  const system = useTestRuntime({ streamShards: 2 });
  let dynamo: DynamoDBClient;
  let guarded: DynamoDBClient;
  const emitted: string[] = [];

  beforeAll(async () => {
    dynamo = dynamoClient(system.runtime.dynamoEndpoint);
    guarded = dynamoClient(system.runtime.dynamoEndpoint);
    installPermissionGuard(guarded, localAwsSettings.region);
    // 120 runs a day, in posts of 60 (a request takes at most 100).
    for (const day of DAYS) {
      const runs = runsOf(day, 120);
      for (const executions of [runs.slice(0, 60), runs.slice(60)]) {
        const { answer } = await postWithRetry(
          system.http,
          { executions },
          { deadlineMs: Date.now() + 60_000 },
        );
        expect(answer.status, answer.body).toBeLessThan(300);
      }
    }
    await system.runtime.poller.waitUntilCaughtUp(120_000);
  }, 180_000);

  afterAll(() => {
    dynamo?.destroy();
    guarded?.destroy();
  });

  const audit = (grants?: ReturnType<typeof withoutGrant>) => {
    const handler = createAuditHandler({
      client: guarded,
      executionsTableName: 'Executions',
      aggregatesTableName: 'Aggregates',
      settleSeconds: 1,
      stage: 'test',
      emfSink: (line) => void emitted.push(line),
    });
    return runAs('audit', () => handler({ time: SCHEDULED_AT }), grants);
  };
  const mismatchesEmitted = () =>
    emitted.map((line) => (JSON.parse(line) as Record<string, unknown>)[metricNames.aggregateMismatches]);

  it('finds nothing to report when the aggregates hold the table, and says so in its metric', async () => {
    emitted.length = 0;
    const result: AuditResult = await audit();
    expect(result).toMatchObject({
      days: [...DAYS],
      expiredDays: [],
      runs: 240,
      differing: [],
      extentOnly: 0,
      stillChanging: 0,
    });
    expect(mismatchesEmitted()).toEqual([0]);
  }, 120_000);

  it('names a corrupted item and emits AggregateMismatches 1, writing nothing', async () => {
    const key = { pk: { S: aggregateSeriesPk('hour', 'audit-haiku') }, sk: { S: `${DAYS[1]}T05` } };
    await dynamo.send(
      new UpdateItemCommand({
        TableName: 'Aggregates',
        Key: key,
        // One run fewer than the table holds: the silent undercount the audit exists for.
        UpdateExpression: 'ADD sn :minus SET v = :v',
        ExpressionAttributeValues: { ':minus': { N: '-1' }, ':v': { S: 'undercount' } },
      }),
    );
    emitted.length = 0;
    const result = await audit();
    expect(result.differing).toEqual([`${key.pk.S}/${key.sk.S}`]);
    expect(mismatchesEmitted()).toEqual([1]);
    // Read-only: a second audit finds the same item.
    expect((await audit()).differing).toEqual([`${key.pk.S}/${key.sk.S}`]);
  }, 120_000);

  it('fails like AWS without its Query grant, and emits nothing', async () => {
    emitted.length = 0;
    await expect(audit(withoutGrant('audit', 'dynamodb:Query'))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(emitted).toEqual([]);
  }, 60_000);
});
