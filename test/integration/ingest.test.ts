import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RUN_LIMITS, labelProblem } from '../../functions/domain/execution';
import { asFunction, type Callable } from '../../local/permission-guard';
import { type DynamoFixture, enforceRoles, startDynamoFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext, runRecord } from '../support/events';

describe('ingest on DynamoDB Local with its real stream', () => {
  let fixture: DynamoFixture;
  let ingest: Callable<typeof import('../../functions/ingest').handler>;
  let runItem: typeof import('../../functions/store/run-item');

  beforeAll(async () => {
    fixture = await startDynamoFixture();
    // The handler builds its SDK client on import, so import it only now that the env points at the fixture.
    await enforceRoles();
    ingest = asFunction('ingest', (await import('../../functions/ingest')).handler);
    runItem = await import('../../functions/store/run-item');
  });
  afterAll(async () => fixture?.stop());

  async function post(body: unknown) {
    const result = await ingest(
      httpEvent('POST', '/api/executions', { body: JSON.stringify(body) }),
      lambdaContext,
    );
    return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
  }

  /** The stream records of one executionId so far, oldest first. */
  async function streamOf(executionId: string): Promise<DynamoDBRecord[]> {
    const shards = await fixture.readStream();
    return shards
      .flatMap((shard) => shard.records)
      .filter((record) => record.dynamodb?.Keys?.executionId?.S === executionId);
  }

  async function storedView(executionId: string) {
    const { Item } = await fixture.client.send(
      new GetItemCommand({
        TableName: 'Executions',
        Key: { executionId: { S: executionId } },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    return runItem.toExecutionView(runItem.runImageSchema.parse(unmarshall(Item)));
  }

  it('writes nothing for an identical re-send, so the stream gets no new record', async () => {
    const run = runRecord({ executionId: 'dup-1', costUsd: 0.1 });
    expect(await post(run)).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });

    // The same run again, and again with other key order, explicit defaults and a cost
    // that rounds to the same nanodollar: all identical once validated.
    const reordered = Object.fromEntries(Object.entries(run).reverse());
    const explicit = { ...run, costUsd: 0.10000000001, errorType: '' };
    for (const resend of [run, reordered, explicit]) {
      expect(await post(resend)).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1 } });
    }

    expect((await streamOf('dup-1')).map((record) => record.eventName)).toEqual(['INSERT']);
  });

  it('replaces an item written by hand without a content hash instead of calling the run a duplicate', async () => {
    await fixture.client.send(
      new PutItemCommand({ TableName: 'Executions', Item: { executionId: { S: 'hand-written-1' } } }),
    );

    const run = runRecord({ executionId: 'hand-written-1' });
    expect(await post(run)).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
    expect((await storedView('hand-written-1'))?.model).toBe(run.model);
  });

  it('turns a changed re-send into exactly one MODIFY with the old and new images', async () => {
    const run = runRecord({ executionId: 'fix-1', status: 'failure', errorType: 'Timeout' });
    await post(run);
    const corrected = {
      ...run,
      status: 'success',
      errorType: undefined,
      startTime: '2026-11-01T11:00:00Z',
      endTime: '2026-11-01T11:05:00Z',
    };
    expect(await post(corrected)).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
    expect(await post(corrected)).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1 } });

    const records = await streamOf('fix-1');
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'MODIFY']);
    const modify = records[1]?.dynamodb;
    expect(modify?.OldImage?.status?.S).toBe('failure');
    expect(modify?.NewImage?.status?.S).toBe('success');
    expect(modify?.NewImage?.errorType).toBeUndefined();
    expect(modify?.NewImage?.startTime?.S).toBe('2026-11-01T11:00:00Z');
  });

  it('stores the later of two batch items with one executionId, and only that one reaches the stream', async () => {
    const answer = await post({
      executions: [
        runRecord({ executionId: 'batch-1', model: 'first-version' }),
        runRecord({ executionId: 'batch-2' }),
        runRecord({ executionId: 'batch-1', model: 'second-version' }),
      ],
    });
    expect(answer).toMatchObject({ status: 202, body: { accepted: 2, duplicates: 0, superseded: 1 } });
    expect((await storedView('batch-1'))?.model).toBe('second-version');
    const records = await streamOf('batch-1');
    expect(records.map((record) => [record.eventName, record.dynamodb?.NewImage?.model?.S])).toEqual([
      ['INSERT', 'second-version'],
    ]);
  });

  it('accepts exactly one of many concurrent POSTs of the same new run', async () => {
    const run = runRecord({ executionId: 'race-1' });
    const answers = await Promise.all(Array.from({ length: 16 }, () => post(run)));

    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    expect(answers.reduce((sum, answer) => sum + answer.body.accepted, 0)).toBe(1);
    expect(answers.reduce((sum, answer) => sum + answer.body.duplicates, 0)).toBe(15);
    expect((await streamOf('race-1')).map((record) => record.eventName)).toEqual(['INSERT']);
  });

  it('reads back every valid generated record exactly as posted, plus its duration', async () => {
    // Labels as ingest takes them: identifiers in NFC (docs/QUERY.md), and
    // runs within the default plausibility limits.
    const text = (field: 'model' | 'errorType', min: number, max: number) =>
      fc
        .string({ unit: 'grapheme', minLength: min, maxLength: max })
        .filter(
          (value) =>
            [...value].length <= max &&
            value === value.normalize('NFC') &&
            labelProblem(field, value, field === 'model') === undefined,
        );
    const startMs = fc.integer({ min: 0, max: Date.now() - 2 * 86_400_000 });
    let serial = 0;
    const record = fc.record(
      {
        executionId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,100}$/),
        startMs,
        durationMs: fc.integer({ min: 0, max: DEFAULT_RUN_LIMITS.maxDurationHours * 3_600_000 }),
        offsetMinutes: fc.integer({ min: -12 * 60, max: 14 * 60 }),
        status: fc.constantFrom('success', 'failure'),
        model: text('model', 1, 100),
        inputTokens: fc.nat(DEFAULT_RUN_LIMITS.maxTokens),
        outputTokens: fc.nat(DEFAULT_RUN_LIMITS.maxTokens),
        cacheReadTokens: fc.nat(DEFAULT_RUN_LIMITS.maxTokens),
        cacheWriteTokens: fc.nat(DEFAULT_RUN_LIMITS.maxTokens),
        costNanos: fc.option(fc.integer({ min: 0, max: DEFAULT_RUN_LIMITS.maxCostUsd * 1e9 }), { nil: null }),
        llmCalls: fc.nat(1_000),
        toolCalls: fc.nat(1_000),
        filesModified: fc.nat(1_000),
        errorType: fc.option(text('errorType', 1, 100), { nil: undefined }),
        errorMessage: fc.option(
          fc.string({ unit: 'grapheme', maxLength: 2_000 }).filter((value) => [...value].length <= 2_000),
          { nil: undefined },
        ),
      },
      {
        requiredKeys: [
          'executionId',
          'startMs',
          'durationMs',
          'offsetMinutes',
          'status',
          'model',
          'inputTokens',
          'outputTokens',
        ],
      },
    );

    await fc.assert(
      fc.asyncProperty(record, async (generated) => {
        const { startMs, durationMs, offsetMinutes, costNanos, ...fields } = generated;
        const executionId = `${fields.executionId}-${serial++}`;
        const posted = {
          ...fields,
          executionId,
          startTime: withOffset(startMs, offsetMinutes),
          endTime: withOffset(startMs + durationMs, 0),
          ...(costNanos === undefined ? {} : { costUsd: costNanos === null ? null : costNanos / 1e9 }),
        };
        const answer = await post(posted);
        expect(answer).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0, rejected: [] } });

        expect(await storedView(executionId)).toEqual({
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: null,
          llmCalls: 0,
          toolCalls: 0,
          filesModified: 0,
          ...posted,
          durationMs,
        });
      }),
      { numRuns: 150 },
    );
  });
});

/** `ms` as an RFC 3339 date-time in a fixed offset, e.g. 2026-11-01T15:30:00.250+05:30. */
function withOffset(ms: number, offsetMinutes: number): string {
  if (offsetMinutes === 0) return new Date(ms).toISOString();
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const magnitude = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(magnitude / 60)).padStart(2, '0')}:${String(magnitude % 60).padStart(2, '0')}`;
}
