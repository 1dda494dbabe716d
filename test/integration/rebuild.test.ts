/**
 * `npm run rebuild` through the whole local system (stream as 4 shards):
 * runs are ingested and aggregated, some aggregate items are deleted or
 * corrupted, then the rebuild runs while more runs keep arriving (most on a
 * day it does not rebuild, a burst on one it does) and the stream keeps
 * aggregating them. Afterwards every aggregate item must equal a
 * recomputation from the Executions table, written independently here, and
 * a second rebuild must write nothing.
 */
import { spawn } from 'node:child_process';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_MODELS } from '../../functions/domain/deltas';
import { aggregateSeriesPk, decodeAggregateItem } from '../../functions/store/aggregate-keys';
import { EXTENT_ONLY } from '../../functions/store/aggregates-rebuild';
import { UNWRITTEN_PK } from '../../functions/store/unwritten-items';
import { repoRoot } from '../../local/runtime';
import { postWithRetry } from '../reliability/lib/http';
import { runPool } from '../reliability/lib/load';
import { dynamoClient } from '../reliability/lib/truth';
import { useTestRuntime } from '../support/test-runtime';

const MODELS = ['rb-sonnet', 'rb-opus', 'rb-haiku'] as const;
const ERROR_TYPES = ['Timeout', 'TestFailure', 'BuildError'] as const;
const REBUILT = ['2026-11-10', '2026-11-11'] as const;
const LIVE_DAY = '2026-11-12';
const HOUR_MS = 3_600_000;

let sent = 0;
function run(day: string, index: number, prefix: string, overrides: Record<string, unknown> = {}) {
  const startMs = Date.parse(`${day}T00:00:00Z`) + ((index * 7_919) % 24) * HOUR_MS + (index % 3_600) * 1_000;
  const failed = index % 5 === 0;
  sent++;
  return {
    executionId: `${prefix}-${day}-${index}`,
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + 20_000 + (index % 17) * 3_000).toISOString(),
    status: failed ? 'failure' : 'success',
    model: MODELS[index % MODELS.length],
    inputTokens: 1_000 + index,
    outputTokens: 100 + (index % 50),
    cacheReadTokens: index % 7,
    cacheWriteTokens: 0,
    costUsd: index % 11 === 0 ? null : 0.001 * (1 + (index % 9)),
    llmCalls: 1 + (index % 4),
    toolCalls: 2,
    filesModified: failed ? 0 : index % 3,
    ...(failed ? { errorType: ERROR_TYPES[index % ERROR_TYPES.length] } : {}),
    ...overrides,
  };
}

interface Expected {
  executions: Record<'success' | 'failure', number>;
  inputTokens: number;
  costNanos: bigint;
  durationMsSum: number;
  errors: Map<string, number>;
  /** Shortest and longest run per status, exact. */
  extents: Partial<Record<'success' | 'failure', { minMs: number; maxMs: number }>>;
}

/** The figures of every (granularity, model, bucket), recomputed here from a Scan of the Executions table. */
async function expectedFromTable(client: DynamoDBClient): Promise<Map<string, Expected>> {
  const expected = new Map<string, Expected>();
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: 'Executions', ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      const runItem = unmarshall(item) as {
        startMs: number;
        model: string;
        status: 'success' | 'failure';
        inputTokens: number;
        costNanos?: bigint | number;
        durationMs: number;
        errorType?: string;
      };
      const iso = new Date(runItem.startMs).toISOString();
      // The model's items, and the all-models rollup's (which lists no error types).
      for (const [id, withErrors] of [
        [`${aggregateSeriesPk('hour', runItem.model)}|${iso.slice(0, 13)}`, true],
        [`${aggregateSeriesPk('day', runItem.model)}|${iso.slice(0, 10)}`, true],
        [`${aggregateSeriesPk('hour', ALL_MODELS)}|${iso.slice(0, 13)}`, false],
        [`${aggregateSeriesPk('day', ALL_MODELS)}|${iso.slice(0, 10)}`, false],
      ] as const) {
        const figures = expected.get(id) ?? {
          executions: { success: 0, failure: 0 },
          inputTokens: 0,
          costNanos: 0n,
          durationMsSum: 0,
          errors: new Map<string, number>(),
          extents: {},
        };
        const extent = figures.extents[runItem.status];
        figures.extents[runItem.status] = {
          minMs: Math.min(extent?.minMs ?? runItem.durationMs, runItem.durationMs),
          maxMs: Math.max(extent?.maxMs ?? runItem.durationMs, runItem.durationMs),
        };
        figures.executions[runItem.status]++;
        figures.inputTokens += runItem.inputTokens;
        figures.costNanos += BigInt(runItem.costNanos ?? 0);
        figures.durationMsSum += runItem.durationMs;
        if (runItem.status === 'failure' && withErrors) {
          const type = runItem.errorType ?? 'Unknown';
          figures.errors.set(type, (figures.errors.get(type) ?? 0) + 1);
        }
        expected.set(id, figures);
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return expected;
}

/** Every aggregate item (pk A#…), by `pk|sk`. */
async function storedAggregates(
  client: DynamoDBClient,
): Promise<Map<string, Record<string, AttributeValue>>> {
  const items = new Map<string, Record<string, AttributeValue>>();
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: 'Aggregates', ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? [])
      if (item.pk?.S?.startsWith('A#')) items.set(`${item.pk.S}|${item.sk?.S}`, item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** `npm run rebuild` as a user runs it: its exit status and output. */
function rebuild(endpoint: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/rebuild.ts', '--endpoint', endpoint, '--settle-seconds', '3', ...args],
      { cwd: repoRoot, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => done({ code, output }));
  });
}

describe('npm run rebuild while the stream runs (4 shards)', () => {
  const system = useTestRuntime({ streamShards: 4 });
  let dynamo: DynamoDBClient;

  beforeAll(() => {
    dynamo = dynamoClient(system.runtime.dynamoEndpoint);
  });

  afterAll(() => {
    dynamo?.destroy();
  });

  const post = async (executions: object[]) => {
    const { answer } = await postWithRetry(system.http, { executions }, { deadlineMs: Date.now() + 120_000 });
    expect(answer.status, answer.body).toBeLessThan(300);
  };

  it('finds deleted and corrupted items with --check, recomputes them exactly while runs arrive, and is idempotent', async () => {
    // Arrange: 1,200 runs on the two days to rebuild and 300 on the live day, with corrections.
    const { runtime } = system;
    const batches: object[][] = [];
    for (const day of [...REBUILT, LIVE_DAY])
      for (let batch = 0; batch < (day === LIVE_DAY ? 3 : 6); batch++)
        batches.push(Array.from({ length: 100 }, (_, offset) => run(day, batch * 100 + offset, 'first')));
    await runPool(batches.length, 4, async (index) => post(batches[index] ?? []));
    // Corrections: another model, status and hour for 40 runs (MODIFY records).
    await post(
      Array.from({ length: 40 }, (_, index) =>
        run(REBUILT[0], index * 13, 'first', {
          model: 'rb-corrected',
          status: 'success',
          errorType: undefined,
        }),
      ),
    );
    // Five runs stored first as lasting 50 minutes, then corrected to a normal duration: the items
    // they are in keep 50 minutes as their longest run (a write never narrows it) until a rebuild.
    const longFirst = (index: number, durationMs: number) => {
      const first = run(REBUILT[1], 7_000 + index, 'long');
      return { ...first, endTime: new Date(Date.parse(first.startTime) + durationMs).toISOString() };
    };
    await post(Array.from({ length: 5 }, (_, index) => longFirst(index, 3_000_000)));
    await runtime.poller.waitUntilCaughtUp(300_000);
    await post(Array.from({ length: 5 }, (_, index) => longFirst(index, 30_000)));
    await runtime.poller.waitUntilCaughtUp(300_000);

    const hourOpus = { pk: { S: aggregateSeriesPk('hour', 'rb-opus') }, sk: { S: `${REBUILT[0]}T05` } };
    const daySonnet = { pk: { S: aggregateSeriesPk('day', 'rb-sonnet') }, sk: { S: REBUILT[1] } };
    const hourHaiku = { pk: { S: aggregateSeriesPk('hour', 'rb-haiku') }, sk: { S: `${REBUILT[1]}T07` } };
    const dayCorrected = { pk: { S: aggregateSeriesPk('day', 'rb-corrected') }, sk: { S: REBUILT[0] } };
    await dynamo.send(new DeleteItemCommand({ TableName: 'Aggregates', Key: hourOpus }));
    await dynamo.send(new DeleteItemCommand({ TableName: 'Aggregates', Key: daySonnet }));
    // Corrupted: wrong counters (a lost write, a bad hand edit), with a new version as any write has.
    for (const key of [hourHaiku, dayCorrected])
      await dynamo.send(
        new UpdateItemCommand({
          TableName: 'Aggregates',
          Key: key,
          UpdateExpression: 'SET sn = :sn, fn = :fn, v = :v',
          ExpressionAttributeValues: { ':sn': { N: '999' }, ':fn': { N: '-3' }, ':v': { S: 'corrupted' } },
        }),
      );
    // A refused write the handler recorded earlier, for the runbook's check.
    await dynamo.send(
      new PutItemCommand({
        TableName: 'Aggregates',
        Item: {
          pk: { S: UNWRITTEN_PK },
          sk: { S: `${REBUILT[0]}T05#rb-opus#shardId-x#1` },
          at: { S: '2026-11-10T05:00:00.000Z' },
        },
      }),
    );

    // Act: check first (what the runbook runs to see the damage), then rebuild while runs keep
    // arriving: steadily on the live day, and a burst on a rebuilt day.
    const checkBefore = await rebuild(runtime.dynamoEndpoint, [
      '--from',
      REBUILT[0],
      '--to',
      LIVE_DAY,
      '--check',
    ]);
    const damagedItems = await storedAggregates(dynamo);
    let traffic = true;
    let liveIndex = 10_000;
    const background = (async () => {
      while (traffic) {
        await post(Array.from({ length: 20 }, () => run(LIVE_DAY, liveIndex++, 'live')));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const burst = post(Array.from({ length: 50 }, (_, index) => run(REBUILT[1], 5_000 + index, 'burst')));
    // A lost registry entry (after the check, which lists stored items by the registry):
    // rb-corrected has runs on the first rebuilt day only.
    const correctedEntry = { pk: { S: 'MODELS' }, sk: { S: 'rb-corrected' } };
    await dynamo.send(new DeleteItemCommand({ TableName: 'Aggregates', Key: correctedEntry }));
    const first = await rebuild(runtime.dynamoEndpoint, [
      '--from',
      REBUILT[0],
      '--to',
      REBUILT[1],
      '--rounds',
      '20',
    ]);
    await burst;
    traffic = false;
    await background;
    await runtime.poller.waitUntilCaughtUp(300_000);
    const second = await rebuild(runtime.dynamoEndpoint, ['--from', REBUILT[0], '--to', REBUILT[1]]);
    const check = await rebuild(runtime.dynamoEndpoint, ['--from', REBUILT[0], '--to', LIVE_DAY, '--check']);

    // Assert
    // The check found exactly the four damaged items, wrote nothing, and exited 3.
    expect(checkBefore.code, checkBefore.output).toBe(3);
    // Items the corrections left with too wide a shortest/longest run are reported apart.
    const named = [...checkBefore.output.matchAll(/^ {2}differs: (.+)$/gm)]
      .map((match) => match[1] ?? '')
      .filter((line) => !line.endsWith(EXTENT_ONLY))
      .sort();
    expect(named).toEqual(
      [hourOpus, daySonnet, hourHaiku, dayCorrected].map((key) => `${key.pk.S}/${key.sk.S}`).sort(),
    );
    expect(checkBefore.output).toContain(EXTENT_ONLY);
    expect(damagedItems.has(`${hourOpus.pk.S}|${hourOpus.sk.S}`)).toBe(false);
    expect(damagedItems.get(`${hourHaiku.pk.S}|${hourHaiku.sk.S}`)?.sn).toEqual({ N: '999' });
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(new RegExp(`${REBUILT[0]}: .* UNWRITTEN entries cleared 1, left 0`));
    expect(second.code, second.output).toBe(0);
    for (const day of REBUILT)
      expect(second.output).toMatch(new RegExp(`${day}: .* 0 rewritten, 0 still changing`));
    expect(check.code, check.output).toBe(0);
    const expected = await expectedFromTable(dynamo);
    const stored = await storedAggregates(dynamo);
    // Items whose runs were all corrected away stay, counting nothing.
    const counting = [...stored].filter(([, item]) => {
      const { success, failure } = decodeAggregateItem(item).byStatus;
      return success.counters.executions + failure.counters.executions !== 0;
    });
    expect(counting.map(([id]) => id).sort()).toEqual([...expected.keys()].sort());
    for (const [id, figures] of expected) {
      const decoded = decodeAggregateItem(stored.get(id) ?? {});
      const { success, failure } = decoded.byStatus;
      const actual = {
        executions: { success: success.counters.executions, failure: failure.counters.executions },
        inputTokens: success.counters.inputTokens + failure.counters.inputTokens,
        costNanos: success.counters.costNanos + failure.counters.costNanos,
        durationMsSum: success.counters.durationMsSum + failure.counters.durationMsSum,
        errors: new Map(decoded.errors),
        extents: Object.fromEntries(
          (['success', 'failure'] as const).flatMap((status) => {
            const extent = decoded.byStatus[status].extent;
            return extent ? [[status, extent]] : [];
          }),
        ),
      };
      expect(actual, id).toEqual(figures);
      expect(decoded.otherErrors, id).toBe(0);
      const histogramCount = [...success.histogram.values()].reduce((sum, count) => sum + count, 0);
      expect(histogramCount, id).toBe(figures.executions.success);
    }
    // The stream's watermarks survive a rebuild, so a replay still counts nothing twice.
    const rebuiltHour = stored.get(`${hourHaiku.pk.S}|${hourHaiku.sk.S}`) ?? {};
    expect(Object.keys(rebuiltHour).some((name) => name.startsWith('w:'))).toBe(true);
    // The rebuild registered the model again, with the day of its runs.
    const { Item: entry = {} } = await dynamo.send(
      new GetItemCommand({ TableName: 'Aggregates', Key: correctedEntry, ConsistentRead: true }),
    );
    expect({ first: entry.f?.S, last: entry.l?.S }).toEqual({ first: REBUILT[0], last: REBUILT[0] });
    expect(runtime.poller.status().deadLetterCount).toBe(0);
    expect(sent).toBeGreaterThan(1_500);
  }, 900_000);
});
