import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFunction, type Callable } from '../../local/permission-guard';
import { type DynamoFixture, enforceRoles, startDynamoFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext, runRecord } from '../support/events';

describe('ingest → stream → aggregate → summary on DynamoDB Local', () => {
  let fixture: DynamoFixture;
  let handlers: {
    ingest: Callable<typeof import('../../functions/ingest').handler>;
    query: Callable<typeof import('../../functions/query').handler>;
    aggregate: ReturnType<typeof import('../../functions/aggregate').createAggregateHandler>;
  };
  /** EMF documents the aggregate function emitted. */
  const published: Record<string, unknown>[] = [];

  beforeAll(async () => {
    fixture = await startDynamoFixture();
    await enforceRoles();
    const { createAggregateHandler } = await import('../../functions/aggregate');
    handlers = {
      ingest: asFunction('ingest', (await import('../../functions/ingest')).handler),
      query: asFunction('query', (await import('../../functions/query')).handler),
      aggregate: asFunction(
        'aggregate',
        createAggregateHandler({
          emfSink: (line) => void published.push(JSON.parse(line)),
          // The day after the test's run: its start minute is one CloudWatch takes.
          now: () => Date.parse('2026-11-03T09:00:00Z'),
        }),
      ),
    };
  });
  afterAll(async () => fixture?.stop());

  async function drainStream(): Promise<void> {
    for (const { shardId, records } of await fixture.readStream()) {
      const response = await handlers.aggregate({ Records: records, shardId });
      expect(response.batchItemFailures).toEqual([]);
    }
  }

  it('counts a posted run once in the summary, even when the stream is delivered twice', async () => {
    const run = runRecord({
      startTime: '2026-11-02T09:15:00Z',
      endTime: '2026-11-02T09:16:00Z',
      costUsd: 0.25,
    });
    const posted = await handlers.ingest(
      httpEvent('POST', '/api/executions', { body: JSON.stringify(run) }),
      lambdaContext,
    );
    expect(posted.statusCode).toBe(202);
    expect(JSON.parse(posted.body ?? '')).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });

    await drainStream();
    await drainStream(); // a whole-stream replay must change nothing

    const response = await handlers.query(
      httpEvent('GET', '/api/summary', { query: { from: '2026-11-02', to: '2026-11-02' } }),
      lambdaContext,
    );
    expect(response.statusCode).toBe(200);
    const summary = JSON.parse(response.body ?? '');
    expect(summary).toMatchObject({ executions: 1, successes: 1, failures: 0, successRate: 1 });
    expect(summary.cost.totalUsd).toBe(0.25);
    expect(summary.durationMs.avg).toBe(60_000);
    // From the first delivery only: the run at its start minute and its cost, each overall and for the model.
    expect(published).toHaveLength(4);
    expect(published[0]).toMatchObject({
      _aws: { Timestamp: Date.parse('2026-11-02T09:15:00Z') },
      service: 'fixer-agent-metrics',
      Stage: 'local',
      Executions: 1,
      Failures: 0,
    });
    expect(published.filter((document) => 'CostUsd' in document)).toMatchObject([
      { CostUsd: 0.25 },
      { CostUsd: 0.25, Model: run.model },
    ]);
  });
});
