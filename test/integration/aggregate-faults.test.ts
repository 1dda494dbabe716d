/**
 * Fault injection on DynamoDB Local: runs are written to the Executions table,
 * its real stream is read back and delivered to the aggregate handler the way
 * Lambda may deliver it (whole-batch retries, bisected retries, replays from a
 * reported sequence number that reach past the old batch, duplicate
 * deliveries), while writes crash after k of n, lose their response or are
 * throttled. After every schedule the Aggregates items (hour and day,
 * counters, histograms, error types) must equal a recomputation from the
 * Executions table itself, to the last token and nanodollar.
 *
 * Each schedule works in its own model and executionId namespace, so one
 * DynamoDB Local serves all of them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { createAggregateHandler } from '../../functions/aggregate';
import type { ExecutionRecord } from '../../functions/domain/execution';
import { nanosToUsd } from '../../functions/domain/money';
import { bucketAttribute } from '../../functions/domain/sketch';
import type { decodeAggregateItem } from '../../functions/store/aggregate-keys';
import type { RunImage, runImageSchema, toRunItem } from '../../functions/store/run-item';
import { shardIndexForKey } from '../../local/stream-shards';
import { type DynamoFixture, startDynamoFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../support/events';

type Handler = ReturnType<typeof createAggregateHandler>;
type QueryHandler = typeof import('../../functions/query').handler;

const MODELS = ['a', 'b#2', 'c'] as const;
const ERROR_TYPES = ['Timeout', 'TestFailure', 'Crash'] as const;
const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };

// ---------------------------------------------------------------- schedules

const runArbitrary = fc.record({
  model: fc.constantFrom(...MODELS),
  day: fc.constantFrom('2026-11-01', '2026-11-02'),
  hour: fc.constantFrom(0, 13, 23),
  minute: fc.integer({ min: 0, max: 59 }),
  status: fc.constantFrom('success' as const, 'failure' as const),
  errorType: fc.option(fc.constantFrom(...ERROR_TYPES), { nil: undefined }),
  durationMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3_600_000 })),
  inputTokens: fc.integer({ min: 0, max: 2_000_000_000 }),
  outputTokens: fc.integer({ min: 0, max: 50_000 }),
  cacheReadTokens: fc.integer({ min: 0, max: 1_000_000 }),
  cacheWriteTokens: fc.integer({ min: 0, max: 10_000 }),
  costNanos: fc.option(fc.integer({ min: 0, max: 50_000_000_000 }), { nil: null }),
  llmCalls: fc.nat(40),
  toolCalls: fc.nat(80),
  filesModified: fc.nat(12),
});
type RunFields = typeof runArbitrary extends fc.Arbitrary<infer T> ? T : never;

const operationArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), run: runArbitrary }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('correct' as const), target: fc.nat(), run: runArbitrary }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resend' as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), target: fc.nat() }) },
);
type Operation = typeof operationArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** What goes wrong in one invocation, and how the event source reacts. */
const deliveryArbitrary = fc.record({
  batchSize: fc.integer({ min: 1, max: 12 }),
  fault: fc.constantFrom('none', 'crash', 'lostResponse', 'throttle'),
  /** The fault hits the (k+1)-th UpdateItem of the invocation. */
  afterWrites: fc.nat(5),
  onError: fc.constantFrom('retry' as const, 'bisect' as const),
  /** After a success, deliver an already delivered range again. */
  duplicate: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined, freq: 3 }),
});
type Delivery = typeof deliveryArbitrary extends fc.Arbitrary<infer T> ? T : never;
const NO_FAULT: Delivery = {
  batchSize: 12,
  fault: 'none',
  afterWrites: 0,
  onError: 'retry',
  duplicate: undefined,
};

const streamShardsFromEnv = process.env.STREAM_SHARDS ? Number(process.env.STREAM_SHARDS) : undefined;
const scheduleArbitrary = fc.record({
  operations: fc.array(operationArbitrary, { minLength: 6, maxLength: 28 }),
  deliveries: fc.array(deliveryArbitrary, { maxLength: 40 }),
  /**
   * Split the stream into this many shards by executionId, as a table with
   * that many partitions has, and deliver the shards concurrently, as Lambda
   * runs one invocation per shard at a time. STREAM_SHARDS fixes the count.
   */
  shardCount: streamShardsFromEnv ? fc.constant(streamShardsFromEnv) : fc.constantFrom(1, 2, 4),
});

// ---------------------------------------------------------------- fault injection

interface Injection {
  fault: Delivery['fault'];
  writesLeft: number;
}
/** The fault of the invocation a write belongs to: shards run concurrently, each with its own. */
const injections = new AsyncLocalStorage<Injection>();
/** Faults that actually fired, by kind, to show the suite exercised them. */
const fired: Record<string, number> = {};

/** Wraps the shared DynamoDB client's send: production code stays as it is. */
function injectFaults(client: { send: (...args: never[]) => Promise<unknown> }): MockInstance {
  const original = client.send.bind(client) as (command: unknown, options?: unknown) => Promise<unknown>;
  return vi.spyOn(client, 'send').mockImplementation((async (
    command: { constructor: { name: string } },
    options?: unknown,
  ) => {
    const injection = injections.getStore();
    if (command.constructor.name !== 'UpdateItemCommand' || !injection || injection.fault === 'none')
      return original(command, options);
    if (injection.writesLeft-- > 0) return original(command, options);
    const { fault } = injection;
    injection.fault = 'none';
    fired[fault] = (fired[fault] ?? 0) + 1;
    if (fault === 'crash') throw Object.assign(new Error('injected crash'), { name: 'InjectedCrash' });
    if (fault === 'throttle')
      throw Object.assign(new Error('injected throttle'), { name: 'ThrottlingException' });
    await original(command, options); // lostResponse: the write lands, its answer does not
    throw Object.assign(new Error('injected lost response'), { name: 'TimeoutError' });
  }) as never);
}

// ---------------------------------------------------------------- event source simulation

/**
 * Delivers one shard's records as Lambda's event source mapping may:
 * batches in order, bisect or retry on error, retry from the lowest reported
 * sequence number (with a batch that may reach past the old one) and, after
 * a bounded number of such retries, discard the batch as the on-failure
 * destination would. Returns how many invocations it made.
 */
async function deliverShard(
  handler: Handler,
  shardId: string,
  records: DynamoDBRecord[],
  plan: Delivery[],
): Promise<number> {
  let planIndex = 0;
  let invocations = 0;
  const nextDelivery = () => plan[planIndex++] ?? NO_FAULT;

  async function invoke(start: number, end: number, delivery: Delivery) {
    invocations++;
    return injections.run({ fault: delivery.fault, writesLeft: delivery.afterWrites }, () =>
      handler({ Records: records.slice(start, end), shardId }),
    );
  }

  /** Processes [start, end) until it is done; returns where the shard continues. */
  async function processBatch(start: number, end: number, poisonRetries = 0): Promise<number> {
    const delivery = nextDelivery();
    let response: Awaited<ReturnType<Handler>>;
    try {
      response = await invoke(start, end, delivery);
    } catch {
      if (delivery.onError === 'bisect' && end - start > 1) {
        const middle = start + Math.floor((end - start) / 2);
        await processBatch(start, middle);
        return processBatch(middle, end);
      }
      return processBatch(start, end, poisonRetries);
    }
    if (delivery.duplicate && end > 0) {
      const [a, b] = delivery.duplicate;
      const from = a % end;
      await invoke(from, from + 1 + (b % (end - from)), NO_FAULT);
    }
    if (response.batchItemFailures.length === 0) return end;
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    const checkpoint = records.findIndex(
      (record, index) => index >= start && failed.has(record.dynamodb?.SequenceNumber ?? ''),
    );
    if (poisonRetries >= 2) return end; // discarded to the on-failure destination
    const reach = Math.min(records.length, Math.max(end, checkpoint + nextDelivery().batchSize));
    return processBatch(checkpoint, reach, poisonRetries + 1);
  }

  let position = 0;
  while (position < records.length) {
    const size = plan[planIndex]?.batchSize ?? NO_FAULT.batchSize;
    position = await processBatch(position, Math.min(records.length, position + size));
  }
  return invocations;
}

// ---------------------------------------------------------------- the truth, from the runs themselves

/** Expected figures per aggregate item, in a plain comparable form. */
type Figures = Record<string, Record<string, string>>;

function add(figures: Figures, item: string, name: string, amount: bigint): void {
  const entry = figures[item] ?? {};
  figures[item] = entry;
  entry[name] = (BigInt(entry[name] ?? '0') + amount).toString();
}

/** Counts each run in its start hour and day, straight from its fields. */
function truthOf(runs: Iterable<RunImage>): Figures {
  const figures: Figures = {};
  for (const run of runs) {
    const start = new Date(run.startMs).toISOString();
    for (const [granularity, bucket] of [
      ['hour', start.slice(0, 13)],
      ['day', start.slice(0, 10)],
    ]) {
      const item = `${granularity} ${run.model} ${bucket}`;
      const status = run.status;
      const count = (name: string, amount: number | bigint) => add(figures, item, name, BigInt(amount));
      count(`${status}.executions`, 1);
      count(`${status}.successes`, status === 'success' ? 1 : 0);
      count(`${status}.failures`, status === 'failure' ? 1 : 0);
      count(`${status}.costNanos`, run.costNanos ?? 0n);
      count(`${status}.unknownCostRuns`, run.costNanos === undefined ? 1 : 0);
      count(`${status}.inputTokens`, run.inputTokens);
      count(`${status}.outputTokens`, run.outputTokens);
      count(`${status}.cacheReadTokens`, run.cacheReadTokens);
      count(`${status}.cacheWriteTokens`, run.cacheWriteTokens);
      count(`${status}.llmCalls`, run.llmCalls);
      count(`${status}.toolCalls`, run.toolCalls);
      count(`${status}.filesModified`, status === 'success' ? run.filesModified : 0);
      count(`${status}.durationMsSum`, run.durationMs);
      count(`${status}.histogram.${bucketAttribute(run.durationMs)}`, 1);
      if (status === 'failure') count(`error.${run.errorType ?? 'Unknown'}`, 1);
    }
  }
  return withoutZeros(figures);
}

function withoutZeros(figures: Figures): Figures {
  const result: Figures = {};
  for (const [item, entries] of Object.entries(figures)) {
    const kept = Object.entries(entries).filter(([, value]) => value !== '0');
    if (kept.length > 0) result[item] = Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return result;
}

// ---------------------------------------------------------------- the suite

describe('exactly-once aggregation under injected delivery faults (DynamoDB Local)', () => {
  let fixture: DynamoFixture;
  let handler: Handler;
  let query: QueryHandler;
  let decode: typeof decodeAggregateItem;
  let runSchema: typeof runImageSchema;
  let toItem: typeof toRunItem;
  let sendSpy: MockInstance;
  /** Stream records already handed to the handler (the stream is read from its start each time). */
  const delivered = new Set<string>();
  /** Ids whose REMOVE stands for a TTL expiry. */
  const expiredIds = new Set<string>();

  beforeAll(async () => {
    fixture = await startDynamoFixture();
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const [aggregate, keys, runItem, clients, queryModule] = await Promise.all([
      import('../../functions/aggregate'),
      import('../../functions/store/aggregate-keys'),
      import('../../functions/store/run-item'),
      import('../../functions/store/clients'),
      import('../../functions/query'),
    ]);
    query = queryModule.handler;
    handler = aggregate.createAggregateHandler({ emfSink: () => undefined });
    decode = keys.decodeAggregateItem;
    runSchema = runItem.runImageSchema;
    toItem = runItem.toRunItem;
    sendSpy = injectFaults(clients.dynamodb as never);
  });
  afterAll(async () => {
    sendSpy?.mockRestore();
    await fixture?.stop();
  });

  async function scanAll(tableName: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await fixture.client.send(
        new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  function recordOf(namespace: string, id: string, fields: RunFields): ExecutionRecord {
    const startMs = Date.parse(
      `${fields.day}T${String(fields.hour).padStart(2, '0')}:${String(fields.minute).padStart(2, '0')}:00Z`,
    );
    return {
      executionId: `${namespace}.${id}`,
      startTime: new Date(startMs).toISOString(),
      endTime: new Date(startMs + fields.durationMs).toISOString(),
      status: fields.status,
      model: `${namespace}.${fields.model}`,
      inputTokens: fields.inputTokens,
      outputTokens: fields.outputTokens,
      cacheReadTokens: fields.cacheReadTokens,
      cacheWriteTokens: fields.cacheWriteTokens,
      costUsd: fields.costNanos === null ? null : fields.costNanos / 1e9,
      llmCalls: fields.llmCalls,
      toolCalls: fields.toolCalls,
      filesModified: fields.filesModified,
      ...(fields.errorType ? { errorType: fields.errorType } : {}),
    } as ExecutionRecord;
  }

  /** Applies the operations to the Executions table; returns the ids TTL "expired" and their last runs. */
  async function writeRuns(namespace: string, operations: Operation[]): Promise<Map<string, RunImage>> {
    const live: string[] = [];
    const expired = new Map<string, RunImage>();
    const put = async (item: object) =>
      fixture.client.send(
        new PutItemCommand({
          TableName: 'Executions',
          Item: marshall(item, { removeUndefinedValues: true }),
        }),
      );
    for (const [index, operation] of operations.entries()) {
      const target =
        'target' in operation && live.length > 0 ? live[operation.target % live.length] : undefined;
      switch (operation.kind) {
        case 'put': {
          const record = recordOf(namespace, `r${index}`, operation.run);
          await put(toItem(record, 90));
          live.push(record.executionId);
          break;
        }
        case 'correct':
          if (target)
            await put(toItem({ ...recordOf(namespace, '', operation.run), executionId: target }, 90));
          break;
        case 'resend': {
          if (!target) break;
          const { Item } = await fixture.client.send(
            new GetItemCommand({ TableName: 'Executions', Key: { executionId: { S: target } } }),
          );
          if (Item) await fixture.client.send(new PutItemCommand({ TableName: 'Executions', Item }));
          break;
        }
        case 'delete':
        case 'expire': {
          if (!target) break;
          const removed = await fixture.client.send(
            new DeleteItemCommand({
              TableName: 'Executions',
              Key: { executionId: { S: target } },
              ReturnValues: 'ALL_OLD',
            }),
          );
          live.splice(live.indexOf(target), 1);
          const old = runSchema.safeParse(unmarshall(removed.Attributes ?? {}));
          if (operation.kind === 'expire') {
            expired.delete(target);
            if (old.success) expired.set(target, old.data);
            expiredIds.add(target);
          }
          break;
        }
        case 'junk':
          // Written by hand, bypassing ingest: a new junk item, or a run broken in place.
          await put({
            executionId: target ?? `${namespace}.junk${index}`,
            note: 'edited by hand',
            model: 42,
          });
          break;
      }
    }
    return expired;
  }

  async function get(path: string, parameters: Record<string, string>) {
    const response = await query(httpEvent('GET', path, { query: parameters }), lambdaContext);
    expect(response.statusCode).toBe(200);
    return JSON.parse(response.body ?? '');
  }

  /** GET /api/summary, /api/models and /api/errors over the schedule's models equal the runs. */
  async function expectApiToMatch(namespace: string, runs: RunImage[]): Promise<void> {
    const models = MODELS.map((model) => `${namespace}.${model}`);
    const range = { from: '2026-11-01', to: '2026-11-02', model: models.join(',') };
    const sum = (pick: (run: RunImage) => number) => runs.reduce((total, run) => total + pick(run), 0);
    const failures = runs.filter((run) => run.status === 'failure');
    const summary = await get('/api/summary', range);
    expect(summary).toMatchObject({
      executions: runs.length,
      successes: runs.length - failures.length,
      failures: failures.length,
      cost: {
        totalUsd: nanosToUsd(runs.reduce((total, run) => total + (run.costNanos ?? 0n), 0n)),
        runsWithUnknownCost: runs.filter((run) => run.costNanos === undefined).length,
      },
      tokens: {
        input: sum((run) => run.inputTokens),
        output: sum((run) => run.outputTokens),
        cacheRead: sum((run) => run.cacheReadTokens),
        cacheWrite: sum((run) => run.cacheWriteTokens),
      },
      llmCalls: { total: sum((run) => run.llmCalls) },
      toolCalls: { total: sum((run) => run.toolCalls) },
      filesModified: { total: sum((run) => (run.status === 'success' ? run.filesModified : 0)) },
    });
    const perModel = (await get('/api/models', range)).models as { model: string; executions: number }[];
    for (const model of models) {
      const executions = runs.filter((run) => run.model === model).length;
      expect(perModel.find((entry) => entry.model === model)?.executions ?? 0).toBe(executions);
    }
    const errors = await get('/api/errors', { ...range, limit: '50' });
    expect(errors.totalFailures).toBe(failures.length);
    const byType = new Map<string, number>();
    for (const run of failures)
      byType.set(run.errorType ?? 'Unknown', (byType.get(run.errorType ?? 'Unknown') ?? 0) + 1);
    expect(
      Object.fromEntries(
        (errors.errors as { errorType: string; count: number }[]).map((entry) => [
          entry.errorType,
          entry.count,
        ]),
      ),
    ).toEqual(Object.fromEntries(byType));
  }

  it('keeps hour and day aggregates equal to the runs after any mix of faults', async () => {
    let schedules = 0;
    let invocations = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArbitrary, async ({ operations, deliveries, shardCount }) => {
        const namespace = `s${++schedules}`;
        const expired = await writeRuns(namespace, operations);

        // The new part of the real stream, TTL deletions marked as DynamoDB marks them.
        for (const { shardId, records } of await fixture.readStream()) {
          const fresh = records.filter((record) => !delivered.has(record.eventID ?? ''));
          for (const record of fresh) {
            delivered.add(record.eventID ?? '');
            const id = record.dynamodb?.Keys?.executionId?.S ?? '';
            if (record.eventName === 'REMOVE' && expiredIds.has(id)) record.userIdentity = TTL_IDENTITY;
          }
          const shards = Array.from({ length: shardCount }, (_, lane) => ({
            shardId: shardCount === 1 ? shardId : `${shardId}-${lane}of${shardCount}`,
            records: fresh.filter(
              (record) => shardIndexForKey(record.dynamodb?.Keys?.executionId?.S ?? '', shardCount) === lane,
            ),
          }));
          const counts = await Promise.all(
            shards.map((shard) => deliverShard(handler, shard.shardId, shard.records, deliveries)),
          );
          invocations += counts.reduce((total, count) => total + count, 0);
        }

        // Truth: the runs in the table (junk is not a run), plus the ones TTL expired.
        const stored = (await scanAll('Executions'))
          .map((item) => runSchema.safeParse(unmarshall(item)))
          .flatMap((parsed) =>
            parsed.success && parsed.data.executionId.startsWith(`${namespace}.`) ? [parsed.data] : [],
          );
        const expected = truthOf([...stored, ...expired.values()]);

        const actual: Figures = {};
        for (const item of await scanAll('Aggregates')) {
          const [, code, model] = /^A#([HD])#(.*)$/.exec(item.pk?.S ?? '') ?? [];
          if (!model?.startsWith(`${namespace}.`)) continue;
          const decoded = decode(item);
          const key = `${code === 'H' ? 'hour' : 'day'} ${model} ${item.sk?.S}`;
          const entry: Record<string, string> = {};
          for (const status of ['success', 'failure'] as const) {
            for (const [name, value] of Object.entries(decoded.byStatus[status].counters))
              entry[`${status}.${name}`] = String(value);
            for (const [bucket, count] of decoded.byStatus[status].histogram)
              entry[`${status}.histogram.${bucket}`] = String(count);
          }
          for (const [errorType, count] of decoded.errors) entry[`error.${errorType}`] = String(count);
          actual[key] = entry;
        }
        expect(withoutZeros(actual)).toEqual(expected);
        await expectApiToMatch(namespace, [...stored, ...expired.values()]);
      }),
      { numRuns: 25, endOnFailure: true },
    );
    console.info(
      `fault suite: ${schedules} schedules, ${invocations} invocations, faults fired ${JSON.stringify(fired)}`,
    );
  }, 600_000);
});
