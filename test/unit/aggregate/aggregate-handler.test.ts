import {
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AggregateEvent, createAggregateHandler } from '../../../functions/aggregate';
import { MAX_ERROR_TYPES_PER_ITEM } from '../../../functions/domain/error-counts';
import { durationFigures } from '../../../functions/domain/rates';
import {
  aggregateSeriesPk,
  decodeAggregateItem,
  itemSizeBytes,
} from '../../../functions/store/aggregate-keys';
import type { RunImage } from '../../../functions/store/run-item';
import { FakeAggregatesTable } from './fake-aggregates';
import { runImage, streamRecord, ttlIdentity } from './runs';

// The module also builds the deployed handler, which reads its environment at import.
vi.hoisted(() => {
  process.env.AGGREGATES_TABLE_NAME ??= 'Aggregates';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
});

const dynamodb = mockClient(DynamoDBClient);
const SHARD = 'shardId-00000001700000000000-aaaaaaaa';

let table: FakeAggregatesTable;
/** EMF lines the handler emitted. */
let published: string[];
/** UpdateItem calls that succeed before the next one "crashes" the invocation; Infinity = no crash. */
let writesBeforeCrash: number;

function useFakeTable(): void {
  table = new FakeAggregatesTable();
  dynamodb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => table.put(input));
  dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    if (writesBeforeCrash-- <= 0) throw Object.assign(new Error('crash'), { name: 'SimulatedCrash' });
    return table.update(input);
  });
}

const aggregate = createAggregateHandler({
  aggregatesTableName: 'Aggregates',
  stage: 'prod',
  emfSink: (line) => void published.push(line),
});
const deliver = (records: DynamoDBRecord[], shardId: string | null = SHARD) =>
  aggregate({ Records: records, ...(shardId ? { shardId } : {}) } as AggregateEvent);

/** A varied batch: 3 models, both statuses, two hours, a correction and a user deletion. */
function sampleRecords(): DynamoDBRecord[] {
  const runs = Array.from({ length: 12 }, (_, index) =>
    runImage({
      executionId: `r${index}`,
      model: `m${index % 3}`,
      status: index % 4 === 0 ? 'failure' : 'success',
      errorType: index % 8 === 0 ? 'Timeout' : undefined,
      startMs: Date.parse('2026-11-01T10:59:00Z') + (index % 2) * 120_000,
      inputTokens: 100 + index,
      durationMs: 1_000 * (index + 1),
    }),
  );
  const records = runs.map((run, index) => streamRecord('INSERT', index + 1, { newImage: run }));
  const corrected = { ...runs[1], model: 'm2', startMs: Date.parse('2026-11-02T03:00:00Z') } as RunImage;
  records.push(streamRecord('MODIFY', 13, { oldImage: runs[1], newImage: corrected }));
  records.push(streamRecord('REMOVE', 14, { oldImage: runs[2] }));
  return records;
}

async function cleanSnapshot(records: DynamoDBRecord[]) {
  useFakeTable();
  await deliver(records);
  return table.snapshot();
}

describe('aggregate handler (aws-sdk-client-mock)', () => {
  beforeEach(() => {
    published = [];
    writesBeforeCrash = Number.POSITIVE_INFINITY;
    useFakeTable();
  });
  afterEach(() => dynamodb.reset());

  it('comes out exact after a crash after k of n writes and a retry, whole or bisected', async () => {
    const records = sampleRecords();
    const expected = await cleanSnapshot(records);
    const writes = table.updates;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: writes }), fc.boolean(), async (crashAfter, bisect) => {
        useFakeTable();
        writesBeforeCrash = crashAfter;
        await deliver(records).catch(() => undefined);
        writesBeforeCrash = Number.POSITIVE_INFINITY;
        if (bisect) {
          const middle = Math.floor(records.length / 2);
          await deliver(records.slice(0, middle));
          await deliver(records.slice(middle));
        } else {
          await deliver(records);
        }
        await deliver(records); // and a duplicate delivery on top
        expect(table.snapshot()).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  }, 30_000);

  it('counts every record but the poison ones, and reports each poison record wherever it sits', async () => {
    const records = sampleRecords();
    const clean = await cleanSnapshot(records);
    for (const positions of [[0], [7], [records.length], [0, 5, records.length]]) {
      useFakeTable();
      const withPoison = [...records];
      for (const [offset, position] of positions.entries()) {
        const handWritten = streamRecord('INSERT', 100 + offset, { newImage: { executionId: 'by-hand' } });
        withPoison.splice(position + offset, 0, handWritten);
      }
      // Sequence numbers must rise along the batch: renumber in order.
      const renumbered = withPoison.map((record, index) => ({
        ...record,
        dynamodb: { ...record.dynamodb, SequenceNumber: `1${String(index + 1).padStart(20, '0')}` },
      }));
      const response = await deliver(renumbered);
      const poisonSequences = renumbered
        .filter((record) => record.dynamodb?.NewImage?.model === undefined && record.eventName === 'INSERT')
        .map((record) => record.dynamodb?.SequenceNumber);
      expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(poisonSequences);
      // Lambda retries from the first poison record: nothing changes.
      const firstPoison = renumbered.findIndex(
        (record) => record.dynamodb?.SequenceNumber === poisonSequences[0],
      );
      await deliver(renumbered.slice(firstPoison));
      expect(Object.values(table.snapshot())).toEqual(Object.values(clean));
    }
  });

  it('subtracts the old run when a correction turns it into something that is not a run, and reports it', async () => {
    const run = runImage();
    const response = await deliver([
      streamRecord('INSERT', 1, { newImage: run }),
      streamRecord('MODIFY', 2, { oldImage: run, newImage: { ...run, status: 'maybe' } }),
    ]);
    expect(response.batchItemFailures).toHaveLength(1);
    const hour = decodeAggregateItem(table.item(aggregateSeriesPk('hour', run.model), '2026-11-01T10'));
    expect(hour.byStatus.success.counters.executions).toBe(0);
  });

  it('adds a repaired run whose old image was not a run, without reporting anything', async () => {
    const run = runImage();
    const response = await deliver([
      streamRecord('MODIFY', 1, { oldImage: { executionId: 'x' }, newImage: run }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(
      decodeAggregateItem(table.item(aggregateSeriesPk('day', run.model), '2026-11-01')).byStatus.success
        .counters.executions,
    ).toBe(1);
  });

  it('keeps a run that TTL expired and drops one a user deleted', async () => {
    const kept = runImage({ executionId: 'kept' });
    const deleted = runImage({ executionId: 'deleted' });
    await deliver([
      streamRecord('INSERT', 1, { newImage: kept }),
      streamRecord('INSERT', 2, { newImage: deleted }),
      streamRecord('REMOVE', 3, { oldImage: kept, userIdentity: ttlIdentity }),
      streamRecord('REMOVE', 4, { oldImage: deleted }),
    ]);
    const day = decodeAggregateItem(table.item(aggregateSeriesPk('day', kept.model), '2026-11-01'));
    expect(day.byStatus.success.counters.executions).toBe(1);
  });

  it('registers each model with the first and last UTC day of its runs: widened by any container, never narrowed', async () => {
    const container = () =>
      createAggregateHandler({ aggregatesTableName: 'Aggregates', stage: 'prod', emfSink: () => undefined });
    let sequence = 0;
    const runOn = (model: string, iso: string) =>
      streamRecord('INSERT', ++sequence, {
        newImage: runImage({ executionId: `reg-${sequence}`, model, startMs: Date.parse(iso) }),
      });
    const registry = (model: string) => {
      const { f, l } = table.item('MODELS', model);
      return { first: f?.S, last: l?.S };
    };
    const registryWrites = () =>
      dynamodb.commandCalls(UpdateItemCommand).filter(({ args }) => args[0].input.Key?.pk?.S === 'MODELS')
        .length;
    // A model registered before the registry kept days: its runs may lie anywhere before.
    table.put({ TableName: 'Aggregates', Item: { pk: { S: 'MODELS' }, sk: { S: 'old' } } });

    const first = container();
    await first({
      Records: [runOn('a', '2026-11-02T10:00:00Z'), runOn('old', '2026-11-05T10:00:00Z')],
      shardId: SHARD,
    } as AggregateEvent);
    expect(registry('a')).toEqual({ first: '2026-11-02', last: '2026-11-02' });
    expect(registry('old')).toEqual({ first: undefined, last: '2026-11-05' });

    // Another container (another shard) widens both ways; a narrower span changes nothing.
    const second = container();
    await second({
      Records: [runOn('a', '2026-11-03T23:59:59Z'), runOn('a', '2026-11-01T00:00:00Z')],
      shardId: SHARD,
    } as AggregateEvent);
    await first({
      Records: [runOn('a', '2026-11-02T11:00:00Z'), runOn('old', '2026-11-01T10:00:00Z')],
      shardId: SHARD,
    } as AggregateEvent);
    expect(registry('a')).toEqual({ first: '2026-11-01', last: '2026-11-03' });
    expect(registry('old')).toEqual({ first: undefined, last: '2026-11-05' });

    // A day this container registered already costs no registry write.
    const before = registryWrites();
    await second({ Records: [runOn('a', '2026-11-02T12:00:00Z')], shardId: SHARD } as AggregateEvent);
    expect(registryWrites()).toBe(before);
  });

  it('emits runs at the minute they started and cost when emitted, overall and per model, with the stage, and nothing for a replay', async () => {
    // A day after the sample's runs: CloudWatch takes their minutes (it would not a month later).
    const dayAfter = createAggregateHandler({
      aggregatesTableName: 'Aggregates',
      stage: 'prod',
      emfSink: (line) => void published.push(line),
      now: () => Date.parse('2026-11-02T12:00:00Z'),
    });
    const records = sampleRecords();
    for (let delivery = 0; delivery < 2; delivery++)
      await dayAfter({ Records: records, shardId: SHARD } as AggregateEvent);
    const documents = published.map((line) => JSON.parse(line));
    const runDocuments = documents.filter((document) => 'Executions' in document);
    const costDocuments = documents.filter((document) => 'CostUsd' in document);
    expect(runDocuments.length + costDocuments.length).toBe(documents.length);
    const overall = runDocuments.filter((document) => !('Model' in document));
    expect(overall[0]._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'FixerAgent',
        Dimensions: [['service', 'Stage']],
        Metrics: [
          { Name: 'Executions', Unit: 'Count' },
          { Name: 'Failures', Unit: 'Count' },
        ],
      },
    ]);
    expect(overall[0]).toMatchObject({ service: 'fixer-agent-metrics', Stage: 'prod' });
    // The runs' start minutes, as the hour items count them: 10:59 and 11:01 (and the corrected run at 03:00 next day).
    const minutes = (list: { _aws: { Timestamp: number } }[]) =>
      [...new Set(list.map((document) => new Date(document._aws.Timestamp).toISOString()))].sort();
    expect(minutes(overall)).toEqual([
      '2026-11-01T10:59:00.000Z',
      '2026-11-01T11:01:00.000Z',
      '2026-11-02T03:00:00.000Z',
    ]);
    // Cost: one document overall and one per model, filed now.
    expect(costDocuments.map((document) => document.Model ?? '').sort()).toEqual(['', 'm0', 'm1', 'm2']);
    for (const document of costDocuments) expect(Date.now() - document._aws.Timestamp).toBeLessThan(60_000);
    // And a month after them: the cost documents alone.
    published = [];
    useFakeTable();
    const monthAfter = createAggregateHandler({
      aggregatesTableName: 'AggregatesLater',
      emfSink: (line) => void published.push(line),
      now: () => Date.parse('2026-12-02T12:00:00Z'),
    });
    await monthAfter({ Records: records, shardId: SHARD } as AggregateEvent);
    expect(published.map((line) => Object.keys(JSON.parse(line)).includes('CostUsd'))).toEqual(
      Array(4).fill(true),
    );
    // Twelve runs inserted, one deleted: the executions of every minute add up to 11, per model as overall.
    const sum = (list: { Executions: number }[]) =>
      list.reduce((total, document) => total + document.Executions, 0);
    expect(sum(overall)).toBe(11);
    expect(sum(runDocuments.filter((document) => 'Model' in document))).toBe(11);
    expect(new Set(runDocuments.map((document) => document.Model ?? '')).size).toBe(4);
  });

  it('logs and counts a metric it cannot emit, and still succeeds', async () => {
    const lines: string[] = [];
    const failing = createAggregateHandler({
      aggregatesTableName: 'Aggregates',
      emfSink: (line) => {
        lines.push(line);
        if (lines.length === 1) throw new Error('stdout is closed');
      },
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const response = await failing({ Records: sampleRecords(), shardId: SHARD } as AggregateEvent);
    expect(response.batchItemFailures).toEqual([]);
    expect(Object.keys(table.snapshot()).length).toBeGreaterThan(0);
    // The sample's runs are weeks old, so only cost documents (overall, then three models): the failed
    // first one is followed by the failure count, then the other three.
    const [, failure, ...others] = lines.map((line) => JSON.parse(line));
    expect(failure).toMatchObject({ MetricsEmitFailures: 1, Stage: 'local', service: 'fixer-agent-metrics' });
    expect(failure._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'Stage']]);
    expect(others.map((document) => [document.Model, 'CostUsd' in document])).toEqual([
      ['m0', true],
      ['m1', true],
      ['m2', true],
    ]);
    error.mockRestore();
  });

  it('refuses records without a shard id rather than mixing shards under one watermark', async () => {
    await expect(deliver(sampleRecords(), null)).rejects.toThrow(/shardId/);
    expect(table.updates).toBe(0);
  });

  it('reports records it cannot place: an unknown event name, a missing sequence number, a model too long', async () => {
    const run = runImage();
    const unknown = {
      ...streamRecord('INSERT', 1, { newImage: run }),
      eventName: 'UPSERT',
    } as unknown as DynamoDBRecord;
    const unnumbered = streamRecord('INSERT', 2, { newImage: run });
    delete unnumbered.dynamodb?.SequenceNumber;
    const longModel = streamRecord('INSERT', 3, { newImage: { ...run, model: 'm'.repeat(101) } });
    const response = await deliver([
      unknown,
      unnumbered,
      longModel,
      streamRecord('INSERT', 4, { newImage: run }),
    ]);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      unknown.dynamodb?.SequenceNumber,
      'event-2',
      longModel.dynamodb?.SequenceNumber,
    ]);
    const day = decodeAggregateItem(table.item(aggregateSeriesPk('day', run.model), '2026-11-01'));
    expect(day.byStatus.success.counters.executions).toBe(1);
  });

  it('keeps retrying a throttled write until shortly before the invocation deadline', async () => {
    let throttles = 20;
    dynamodb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      if (throttles-- > 0) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return table.update(input);
    });
    const patient = createAggregateHandler({
      aggregatesTableName: 'Aggregates',
      emfSink: () => undefined,
      retry: { baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined },
    });
    const records = [streamRecord('INSERT', 1, { newImage: runImage() })];

    await expect(patient({ Records: records, shardId: SHARD } as AggregateEvent)).rejects.toThrow(/gave up/);
    throttles = 20;
    await patient({ Records: records, shardId: SHARD } as AggregateEvent, {
      getRemainingTimeInMillis: () => 60_000,
    });

    // The model's hour and day, and the all-models rollup's.
    expect(Object.keys(table.snapshot())).toHaveLength(4);
  });

  it('keeps an hour of 10,000 distinct error types under 64 KB, failures exact, listed + other = failures', async () => {
    // 100 code points each, 4-byte characters and JSON-escaped ones included: the widest labels ingest accepts.
    const errorType = (index: number) => `😀"\\${String(index).padStart(5, '0')}${'é😀'.repeat(46)}`;
    const runs = Array.from({ length: 10_000 }, (_, index) =>
      runImage({
        executionId: `r${index}`,
        status: 'failure',
        errorType: errorType(index),
        startMs: Date.parse('2026-11-01T10:00:00Z') + index * 300,
      }),
    );
    let sequence = 0;
    for (let start = 0; start < runs.length; start += 100) {
      await deliver(
        runs.slice(start, start + 100).map((run) => streamRecord('INSERT', ++sequence, { newImage: run })),
      );
    }
    // A user deletes 500 of them, listed (ties keep the first names) and folded alike.
    await deliver(runs.slice(25, 525).map((run) => streamRecord('REMOVE', ++sequence, { oldImage: run })));

    const model = runs[0]!.model;
    for (const [granularity, bucket] of [
      ['hour', '2026-11-01T10'],
      ['day', '2026-11-01'],
    ] as const) {
      const item = table.item(aggregateSeriesPk(granularity, model), bucket);
      const decoded = decodeAggregateItem(item);
      const listed = [...decoded.errors.values()].reduce((sum, count) => sum + count, 0);
      expect(decoded.byStatus.failure.counters.failures).toBe(9_500);
      expect(decoded.errors.size).toBe(MAX_ERROR_TYPES_PER_ITEM - 25);
      expect(listed + decoded.otherErrors).toBe(9_500);
      expect(itemSizeBytes(item)).toBeLessThanOrEqual(64 * 1024);
    }
  }, 60_000);

  it('keeps the exact shortest and longest duration per status, so p95 of runs all at 5 min reads 5 min', async () => {
    const runs = Array.from({ length: 40 }, (_, index) =>
      runImage({ executionId: `r${index}`, durationMs: 300_000 }),
    );
    await deliver(runs.map((run, index) => streamRecord('INSERT', index + 1, { newImage: run })));
    const hour = decodeAggregateItem(table.item(aggregateSeriesPk('hour', runs[0]!.model), '2026-11-01T10'));
    const success = hour.byStatus.success;
    expect(success.extent).toEqual({ minMs: 300_000, maxMs: 300_000 });
    expect(durationFigures(success.counters, new Map(success.histogram), success.extent)).toMatchObject({
      avg: 300_000,
      p50: 300_000,
      p95: 300_000,
      p99: 300_000,
    });
  });

  it('answers an empty tumbling-window invocation with a state', async () => {
    expect(await deliver([], null)).toEqual({ batchItemFailures: [], state: {} });
  });
});
