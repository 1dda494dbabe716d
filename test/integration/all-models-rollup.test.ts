/**
 * The all-models rollup on DynamoDB Local: 200 models' runs go through the
 * real aggregate handler (stream-shaped INSERT batches, two shards), then the
 * query handler answers unfiltered summaries, timeseries and the alarm from
 * the rollup. Every unfiltered answer must equal the sum over the models
 * (the same figures read model by model), and what it reads must not depend
 * on how many models there are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { createAggregateHandler } from '../../functions/aggregate';
import type { handler as queryHandler } from '../../functions/query';
import { type DynamoFixture, startHandlerFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../support/events';
import { runImage, streamRecord } from '../unit/aggregate/runs';

const MODELS = 200;
const DAYS = ['2026-10-03', '2026-10-04', '2026-10-05'];
const modelName = (index: number) => `model-${String(index).padStart(3, '0')}`;

/** Three runs per model and day, at hours and with figures that differ by model. */
function datasetRuns() {
  const runs: ReturnType<typeof runImage>[] = [];
  for (const [dayIndex, day] of DAYS.entries())
    for (let model = 0; model < MODELS; model++)
      for (let slot = 0; slot < 3; slot++) {
        const hour = (model * 7 + slot * 5 + dayIndex) % 24;
        const failed = (model + slot + dayIndex) % 4 === 0;
        runs.push(
          runImage({
            executionId: `r-${dayIndex}-${model}-${slot}`,
            model: modelName(model),
            startMs: Date.parse(
              `${day}T${String(hour).padStart(2, '0')}:${String(model % 60).padStart(2, '0')}:00Z`,
            ),
            durationMs: 1_000 + model * 997 + slot * 31_000,
            status: failed ? 'failure' : 'success',
            ...(failed ? { errorType: `E${model % 3}` } : {}),
            inputTokens: model + slot,
            costNanos: BigInt(1_000_000 * (model + 1)),
            filesModified: slot,
          }),
        );
      }
  return runs;
}

type Body = Record<string, unknown>;

describe('the all-models rollup (DynamoDB Local)', () => {
  let fixture: DynamoFixture;
  let query: typeof queryHandler;
  let aggregate: ReturnType<typeof createAggregateHandler>;

  async function get(path: string, parameters: Record<string, string>) {
    const response = await query(httpEvent('GET', path, { query: parameters }), lambdaContext);
    expect(response.statusCode, response.body).toBe(200);
    return {
      body: JSON.parse(response.body ?? '{}') as Body,
      itemsRead: Number(response.headers?.['x-items-read']),
    };
  }

  beforeAll(async () => {
    ({ fixture, query, aggregate } = await startHandlerFixture());
    // Two shards, each in sequence order, each batch spanning many models.
    const records = datasetRuns().map((run, index) => ({
      shard: index % 2,
      record: streamRecord('INSERT', index + 1, { newImage: run }),
    }));
    for (const shard of [0, 1]) {
      const own = records.filter((entry) => entry.shard === shard).map((entry) => entry.record);
      for (let start = 0; start < own.length; start += 100)
        await aggregate({ Records: own.slice(start, start + 100), shardId: `shardId-rollup-${shard}` });
    }
  }, 300_000);

  afterAll(async () => {
    await fixture?.stop();
  });

  /** The same request over every model, named in groups of 50 (the most a request may name). */
  async function perModelGroups(path: string, parameters: Record<string, string>) {
    const groups: Body[] = [];
    for (let first = 0; first < MODELS; first += 50) {
      const names = Array.from({ length: 50 }, (_, offset) => modelName(first + offset));
      groups.push((await get(path, { ...parameters, model: names.join(',') })).body);
    }
    return groups;
  }

  const additive = (body: Body) => ({
    executions: body.executions,
    successes: body.successes,
    failures: body.failures,
    tokens: body.tokens,
    costNanos: Math.round(Number((body.cost as Body | undefined)?.totalUsd ?? body.costUsd) * 1e9),
    llmCalls: (body.llmCalls as Body | undefined)?.total ?? body.llmCalls,
    filesModified: (body.filesModified as Body | undefined)?.total,
  });

  function sumOf(bodies: readonly Body[]) {
    const rows = bodies.map(additive);
    const total = (pick: (row: ReturnType<typeof additive>) => unknown) =>
      rows.reduce((sum, row) => sum + Number(pick(row) ?? 0), 0);
    const tokens = (field: string) => total((row) => (row.tokens as Record<string, number>)[field]);
    return {
      executions: total((row) => row.executions),
      successes: total((row) => row.successes),
      failures: total((row) => row.failures),
      tokens: {
        input: tokens('input'),
        output: tokens('output'),
        cacheRead: tokens('cacheRead'),
        cacheWrite: tokens('cacheWrite'),
        total: tokens('total'),
      },
      costNanos: total((row) => row.costNanos),
      llmCalls: total((row) => row.llmCalls),
      filesModified: rows[0]?.filesModified === undefined ? undefined : total((row) => row.filesModified),
    };
  }

  it('answers an unfiltered summary with the sum over the models, reading one item per bucket', async () => {
    // Act
    const range = { from: DAYS[0]!, to: DAYS[2]! };
    const all = await get('/api/summary', range);
    const groups = await perModelGroups('/api/summary', range);

    // Assert
    expect(all.body.executions).toBe(MODELS * DAYS.length * 3);
    expect(additive(all.body)).toEqual(sumOf(groups));
    // Three days and the three before them: six day items, whatever the number of models.
    expect(all.itemsRead).toBeLessThanOrEqual(6);
  });

  it('answers an unfiltered New York timeseries bucket by bucket with the sum over the models', async () => {
    // Act
    const range = { from: DAYS[0]!, to: DAYS[2]!, tz: 'America/New_York', granularity: 'day' };
    const all = await get('/api/timeseries', range);
    const groups = await perModelGroups('/api/timeseries', range);

    // Assert
    const buckets = all.body.buckets as Body[];
    expect(buckets).toHaveLength(DAYS.length);
    for (const [index, bucket] of buckets.entries())
      expect(additive(bucket)).toEqual(sumOf(groups.map((group) => (group.buckets as Body[])[index]!)));
    // Each local day is a day item plus and minus edge hours, for 3 + 14 baseline days: bounded by the
    // calendar (≤ 18 days + 2 × 4 edge hours each), not by the 200 models.
    expect(all.itemsRead).toBeLessThanOrEqual(18 + 18 * 8);
  });

  it('gives unfiltered durations from the rollup’s own histogram, equal to the models’ together', async () => {
    // Arrange: the figures of the rollup and of the 200 model series, read by the store, summed by the domain.
    const [{ readAggregates, counterBucketsOf, ReadMeter }, { signedPlanOf }, { signedTotalsPerSpan }] =
      await Promise.all([
        import('../../functions/store/aggregates-reader'),
        import('../../functions/domain/query-range'),
        import('../../functions/domain/timeseries'),
      ]);
    const { ALL_MODELS } = await import('../../functions/domain/deltas');
    const spans = DAYS.map((day) => ({
      startMs: Date.parse(`${day}T04:00:00Z`),
      endMs: Date.parse(`${day}T04:00:00Z`) + 86_400_000,
    }));
    const plan = signedPlanOf(spans);
    const totalsOf = async (models: readonly string[]) => {
      const items = await readAggregates(
        'Aggregates',
        { models, hourKeys: plan.hourKeys, dayKeys: plan.dayKeys },
        new ReadMeter(),
      );
      return signedTotalsPerSpan(plan.perSpan, counterBucketsOf(items, ['success', 'failure']));
    };

    // Act
    const rollup = await totalsOf([ALL_MODELS]);
    const models = await totalsOf(Array.from({ length: MODELS }, (_, index) => modelName(index)));

    // Assert
    const comparable = (totals: Awaited<ReturnType<typeof totalsOf>>) =>
      totals.map(({ counters, histogram, extent }) => ({
        counters,
        histogram: Object.fromEntries([...histogram].filter(([, count]) => count !== 0).sort()),
        extent,
      }));
    expect(comparable(rollup)).toEqual(comparable(models));
  });

  it('reads the trailing hour for the alarm from two rollup items, not two per model', async () => {
    // Arrange: 100 models' runs in the trailing minutes (one in five failed), and 100 others' at the
    // first instant of the previous hour: an hour item of the window, but never inside its 60 minutes.
    const hourMs = 3_600_000;
    const untilNextHour = hourMs - (Date.now() % hourMs);
    if (untilNextHour < 10_000) await new Promise((resolve) => setTimeout(resolve, untilNextHour + 100));
    const nowMs = Date.now();
    const previousHourStart = nowMs - (nowMs % hourMs) - hourMs;
    const runs = Array.from({ length: MODELS }, (_, model) => {
      const inWindow = model % 2 === 0;
      const failed = inWindow && model % 5 === 0;
      return runImage({
        executionId: `alarm-${model}`,
        model: modelName(model),
        startMs: inWindow ? nowMs - (model % 7) * 1_000 : previousHourStart + (model % 7) * 1_000,
        durationMs: 1_000,
        status: failed ? 'failure' : 'success',
        ...(failed ? { errorType: 'E' } : {}),
      });
    });
    await aggregate({
      Records: runs.map((run, index) => streamRecord('INSERT', index + 1, { newImage: run })),
      shardId: 'shardId-rollup-alarm',
    });

    // Act
    const { body, itemsRead } = await get('/api/alarm', {});

    // Assert
    expect(body).toMatchObject({ executions: MODELS / 2, successRate: 0.8, state: 'ALARM' });
    // This hour's and the last hour's rollup items, both holding runs; per model it would be 400.
    expect(itemsRead).toBe(2);
  });

  it('refuses a filter naming more models than a request may, naming model', async () => {
    // Act
    const response = await query(
      httpEvent('GET', '/api/summary', {
        query: { model: Array.from({ length: 51 }, (_, index) => modelName(index)).join(',') },
      }),
      lambdaContext,
    );

    // Assert
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '{}').issues[0]).toMatchObject({ path: 'model' });
  });
});
