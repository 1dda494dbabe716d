/**
 * Query bench: latency (p50/p95) and items read per request of every GET
 * endpoint, at 10 k and 50 k runs (10 k and 100 k with `--100k`, 1 M more with
 * `--1m`, 10 k, 1 M and 10 M with `--10m`), on DynamoDB Local, and
 * the time of a whole dashboard load (every request of the three tabs, 30
 * days). With `--baseline-pg URL` the same runs also go into one flat
 * PostgreSQL table (start_time index) and the equivalent GROUP BY queries are
 * timed: the seed's way, side by side.
 *
 * Loading: run items go straight into Executions with BatchWriteItem, and the
 * aggregates are built by the real aggregate handler from stream-shaped
 * INSERT records (sorted by start time, 50,000 per batch), so the bench spends
 * its time measuring, not replaying DynamoDB Local's stream API.
 *
 * Past 1 M runs (`--10m`) raw runs are not written: only the aggregates are
 * built from the further runs, by the same handler, so every aggregate view
 * reads what 10 M runs make, while `/api/runs` pages through the first 1 M
 * (the runs index reads a page at a time whatever the volume, docs/RUNS.md).
 * The PostgreSQL table gets every run.
 */
import { BatchWriteItemCommand, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { type RunItem, toRunItem } from '../functions/store/run-item';
import { startDynamoFixture } from '../test/support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../test/support/events';
import { type DatasetRun, generateRuns } from '../test/support/run-dataset';
import { percentile } from './support';

const DAY_MS = 86_400_000;
/** Kept small: on a 2-CPU machine DynamoDB Local needs ~1 s for a 30-day New York timeseries at 100 k runs. */
const ITERATIONS = 12;
const WARMUP = 2;
/** Runs generated, written and aggregated at a time. */
const LOAD_CHUNK = 1_000_000;
/** Raw run items written to Executions; past it only aggregates are built (see above). */
const RAW_RUNS_LIMIT = 1_000_000;

interface Timing {
  /** The first call, before the warm-up: items written since the last read are decoded anew. */
  readonly first: number;
  readonly p50: number;
  readonly p95: number;
  readonly itemsRead: number;
  /** What DynamoDB charges for the reads (x-read-capacity-units): the AWS-side cost, whatever the emulator's speed. */
  readonly readUnits: number;
  /**
   * This process's CPU per call (process.cpuUsage: handler, SDK, decoding).
   * The rest of the wall time is DynamoDB Local's, in its own Java process.
   */
  readonly cpuMs: number;
  readonly status: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The requests of a dashboard load over the last 30 days (what frontend/src/tabs/ asks for). */
function dashboardRequests(nowMs: number): [string, Record<string, string>][] {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const day = (offset: number) => new Date(Date.parse(today) + offset * DAY_MS).toISOString().slice(0, 10);
  const range = { from: day(-29), to: today };
  return [
    ['/api/alarm', {}],
    ['/api/models', range],
    ['/api/summary', range],
    ['/api/timeseries', range],
    ['/api/errors', { ...range, limit: '10' }],
    ['/api/runs', { ...range, status: 'failure', limit: '20' }],
  ];
}

/** Every endpoint, with the variants worth telling apart. */
function endpointRequests(nowMs: number): [string, string, Record<string, string>][] {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const day = (offset: number) => new Date(Date.parse(today) + offset * DAY_MS).toISOString().slice(0, 10);
  const range = { from: day(-29), to: today };
  return [
    ['summary 30d UTC', '/api/summary', range],
    ['summary 30d New York', '/api/summary', { ...range, tz: 'America/New_York' }],
    ['timeseries 30d day UTC', '/api/timeseries', range],
    ['timeseries 30d day New York', '/api/timeseries', { ...range, tz: 'America/New_York' }],
    ['timeseries 2d hour', '/api/timeseries', { from: day(-1), to: today }],
    ['models 30d', '/api/models', range],
    ['errors 30d', '/api/errors', range],
    ['runs page 1 (50)', '/api/runs', range],
    ['runs failures (20)', '/api/runs', { ...range, status: 'failure', limit: '20' }],
    ['alarm', '/api/alarm', {}],
    ['health', '/api/health', {}],
  ];
}

type QueryHandler = typeof import('../functions/query').handler;

async function call(handler: QueryHandler, path: string, query: Record<string, string>) {
  const started = performance.now();
  const response = await handler(httpEvent('GET', path, { query }), lambdaContext);
  return {
    ms: performance.now() - started,
    status: response.statusCode ?? 0,
    itemsRead: Number(response.headers?.['x-items-read'] ?? Number.NaN),
    readUnits: Number(response.headers?.['x-read-capacity-units'] ?? Number.NaN),
  };
}

/** This process's CPU (user + system) since `before`, in ms per call. */
function cpuMsPerCall(before: NodeJS.CpuUsage, calls: number): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / calls;
}

async function timeRequest(
  handler: QueryHandler,
  path: string,
  query: Record<string, string>,
): Promise<Timing> {
  let first = Number.NaN;
  for (let index = 0; index < WARMUP; index++) {
    const result = await call(handler, path, query);
    if (index === 0) first = result.ms;
  }
  const samples: number[] = [];
  let last = { status: 0, itemsRead: 0, readUnits: 0 };
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < ITERATIONS; index++) {
    const result = await call(handler, path, query);
    samples.push(result.ms);
    last = result;
  }
  const cpuMs = cpuMsPerCall(cpuBefore, ITERATIONS);
  samples.sort((a, b) => a - b);
  return { first, p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), ...last, cpuMs };
}

async function timeDashboard(handler: QueryHandler, nowMs: number) {
  const requests = dashboardRequests(nowMs);
  const samples: number[] = [];
  let itemsRead = 0;
  let readUnits = 0;
  let first = Number.NaN;
  let cpuBefore = process.cpuUsage();
  for (let index = 0; index < WARMUP + ITERATIONS; index++) {
    if (index === WARMUP) cpuBefore = process.cpuUsage();
    const started = performance.now();
    // The browser sends a tab's requests together.
    const results = await Promise.all(requests.map(([path, query]) => call(handler, path, query)));
    if (index === 0) first = performance.now() - started;
    if (index >= WARMUP) samples.push(performance.now() - started);
    itemsRead = results.reduce((sum, result) => sum + result.itemsRead, 0);
    readUnits = results.reduce((sum, result) => sum + result.readUnits, 0);
  }
  const cpuMs = cpuMsPerCall(cpuBefore, ITERATIONS);
  samples.sort((a, b) => a - b);
  return {
    first,
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    itemsRead,
    readUnits,
    cpuMs,
    requests: requests.length,
  };
}

export function toItem(run: DatasetRun): RunItem {
  return toRunItem(run, 3650);
}

export async function writeRunItems(
  client: import('@aws-sdk/client-dynamodb').DynamoDBClient,
  items: RunItem[],
) {
  const chunks: WriteRequest[][] = [];
  for (let index = 0; index < items.length; index += 25)
    chunks.push(items.slice(index, index + 25).map((item) => ({ PutRequest: { Item: marshall(item) } })));
  let next = 0;
  await Promise.all(
    Array.from({ length: 12 }, async () => {
      while (next < chunks.length) {
        let requests: WriteRequest[] | undefined = chunks[next++];
        while (requests && requests.length > 0) {
          const output = await client.send(
            new BatchWriteItemCommand({ RequestItems: { Executions: requests } }),
          );
          requests = output.UnprocessedItems?.Executions;
        }
      }
    }),
  );
}

let sequence = 1_000_000_000_000_000_000n;

/**
 * Runs per aggregate invocation. The handler pre-aggregates a batch into one
 * UpdateItem per touched item, so huge batches load fast; the query side
 * cannot tell, because the items end up the same.
 */
const AGGREGATE_BATCH = 50_000;

export async function aggregate(
  handler: ReturnType<typeof import('../functions/aggregate').createAggregateHandler>,
  items: RunItem[],
) {
  const sorted = [...items].sort((a, b) => a.startMs - b.startMs);
  for (let index = 0; index < sorted.length; index += AGGREGATE_BATCH) {
    const records = sorted.slice(index, index + AGGREGATE_BATCH).map(
      (item): DynamoDBRecord => ({
        eventID: String(sequence),
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        dynamodb: {
          Keys: { executionId: { S: item.executionId } },
          NewImage: marshall(item) as never,
          SequenceNumber: String(sequence++),
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      }),
    );
    const response = await handler({ Records: records, shardId: 'shardId-bench-0001' });
    if (response.batchItemFailures.length > 0) throw new Error('aggregate batch failed');
  }
}

interface PgBaseline {
  load(runs: DatasetRun[]): Promise<void>;
  timeDashboard(nowMs: number): Promise<{ p50: number; p95: number; perQuery: Record<string, number> }>;
  close(): Promise<void>;
}

/** The seed's way: one flat table, a start_time index, GROUP BY at read time. */
async function pgBaseline(url: string): Promise<PgBaseline> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP TABLE IF EXISTS bench_runs');
  await client.query(`CREATE TABLE bench_runs (
    execution_id text PRIMARY KEY, start_time timestamptz NOT NULL, end_time timestamptz NOT NULL,
    status text NOT NULL, model text NOT NULL, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, cost_usd numeric, llm_calls int, tool_calls int,
    files_modified int, error_type text, error_message text, duration_ms bigint)`);
  await client.query('CREATE INDEX bench_runs_start_time ON bench_runs (start_time)');

  const figures = `count(*) AS executions, count(*) FILTER (WHERE status = 'success') AS successes,
    sum(coalesce(cost_usd, 0)) AS cost, count(*) FILTER (WHERE cost_usd IS NULL) AS unknown_cost,
    sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_read_tokens) AS cache_read,
    sum(cache_write_tokens) AS cache_write, avg(duration_ms) AS duration_avg,
    percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS duration_p95`;

  return {
    async load(runs) {
      for (let index = 0; index < runs.length; index += 5000) {
        const chunk = runs.slice(index, index + 5000);
        const column = <T>(pick: (run: DatasetRun) => T) => chunk.map(pick);
        await client.query(
          `INSERT INTO bench_runs SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[],
            $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::numeric[], $11::int[], $12::int[],
            $13::int[], $14::text[], $15::text[], $16::bigint[])`,
          [
            column((run) => run.executionId),
            column((run) => run.startTime),
            column((run) => run.endTime),
            column((run) => run.status),
            column((run) => run.model),
            column((run) => run.inputTokens),
            column((run) => run.outputTokens),
            column((run) => run.cacheReadTokens),
            column((run) => run.cacheWriteTokens),
            column((run) => run.costUsd),
            column((run) => run.llmCalls),
            column((run) => run.toolCalls),
            column((run) => run.filesModified),
            column((run) => run.errorType ?? null),
            column((run) => run.errorMessage ?? null),
            column((run) => Date.parse(run.endTime) - Date.parse(run.startTime)),
          ],
        );
      }
      await client.query('ANALYZE bench_runs');
    },
    async timeDashboard(nowMs) {
      const today = Date.parse(new Date(nowMs).toISOString().slice(0, 10));
      const from = new Date(today - 29 * DAY_MS).toISOString();
      const to = new Date(today + DAY_MS).toISOString();
      const previousFrom = new Date(today - 59 * DAY_MS).toISOString();
      const range = 'start_time >= $1 AND start_time < $2';
      const queries: [string, string, unknown[]][] = [
        [
          'alarm',
          `SELECT count(*), count(*) FILTER (WHERE status = 'success') FROM bench_runs WHERE start_time >= $1`,
          [new Date(nowMs - 3_600_000).toISOString()],
        ],
        [
          'models',
          `SELECT model, ${figures}, sum(files_modified) FILTER (WHERE status = 'success') FROM bench_runs WHERE ${range} GROUP BY model ORDER BY executions DESC`,
          [from, to],
        ],
        [
          'summary',
          `SELECT ${figures}, percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms), percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM bench_runs WHERE ${range}`,
          [from, to],
        ],
        ['summary previous', `SELECT ${figures} FROM bench_runs WHERE ${range}`, [previousFrom, from]],
        [
          'timeseries',
          `SELECT date_trunc('day', start_time AT TIME ZONE 'UTC') AS day, ${figures} FROM bench_runs WHERE ${range} GROUP BY day ORDER BY day`,
          [from, to],
        ],
        [
          'errors',
          `SELECT coalesce(error_type, 'Unknown') AS type, count(*) FROM bench_runs WHERE ${range} AND status = 'failure' GROUP BY type ORDER BY count(*) DESC`,
          [from, to],
        ],
        [
          'errors by model',
          `SELECT model, count(*), count(*) FILTER (WHERE status = 'failure') FROM bench_runs WHERE ${range} GROUP BY model`,
          [from, to],
        ],
        [
          'runs',
          `SELECT * FROM bench_runs WHERE ${range} AND status = 'failure' ORDER BY start_time DESC, execution_id DESC LIMIT 21`,
          [from, to],
        ],
      ];
      const samples: number[] = [];
      const perQuery: Record<string, number> = {};
      for (let index = 0; index < 2 + 5; index++) {
        const started = performance.now();
        // One connection, as the seed had: the queries run one after another.
        for (const [name, sql, values] of queries) {
          const queryStarted = performance.now();
          await client.query(sql, values);
          if (index >= 2) perQuery[name] = Math.max(perQuery[name] ?? 0, performance.now() - queryStarted);
        }
        if (index >= 2) samples.push(performance.now() - started);
      }
      samples.sort((a, b) => a - b);
      return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), perQuery };
    },
    async close() {
      await client.query('DROP TABLE IF EXISTS bench_runs');
      await client.end();
    },
  };
}

export async function run(flags: string[]): Promise<void> {
  const pgIndex = flags.indexOf('--baseline-pg');
  const pgUrl = pgIndex >= 0 ? flags[pgIndex + 1] : undefined;
  // Default 10 k and 50 k (~4 min); `--100k` for 10 k and 100 k, `--1m` adds 1 M, `--10m` is 10 k, 1 M and 10 M.
  const volumes = flags.includes('--10m')
    ? [10_000, 1_000_000, 10_000_000]
    : flags.includes('--1m')
      ? [10_000, 100_000, 1_000_000]
      : flags.includes('--100k')
        ? [10_000, 100_000]
        : [10_000, 50_000];
  const nowMs = Date.now();

  const fixture = await startDynamoFixture();
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const { handler } = await import('../functions/query');
  const { createAggregateHandler } = await import('../functions/aggregate');
  const aggregateHandler = createAggregateHandler({ emfSink: () => undefined });
  const baseline = pgUrl ? await pgBaseline(pgUrl) : undefined;

  const report: Record<string, unknown> = {};
  let loaded = 0;
  try {
    for (const volume of volumes) {
      // Runs over the last 60 days (the dashboard's 30 and the 30 before), loaded on top of the previous volume.
      const loadStarted = performance.now();
      // In chunks, so that 10 M runs never sit in memory at once.
      for (let chunk = 0; loaded < volume; chunk++) {
        const count = Math.min(LOAD_CHUNK, volume - loaded);
        const runs = generateRuns(count, nowMs - 60 * DAY_MS, nowMs, volume + chunk, `v${volume}c${chunk}`);
        const items = runs.map(toItem);
        if (loaded < RAW_RUNS_LIMIT)
          await writeRunItems(fixture.client, items.slice(0, RAW_RUNS_LIMIT - loaded));
        await aggregate(aggregateHandler, items);
        if (baseline) await baseline.load(runs);
        loaded += count;
      }
      const rawRuns = Math.min(volume, RAW_RUNS_LIMIT);
      console.log(
        `\n-- ${volume.toLocaleString('en')} runs (loaded in ${round((performance.now() - loadStarted) / 1000)} s)` +
          (rawRuns < volume
            ? `; raw runs are NOT written past ${rawRuns.toLocaleString('en')}: the aggregates hold all ${volume.toLocaleString('en')}, /api/runs pages through the first ${rawRuns.toLocaleString('en')}`
            : ''),
      );

      // The dashboard first, right after the load: its first call decodes the
      // items the load wrote (a query container decodes each item version once).
      const dashboard = await timeDashboard(handler, nowMs);
      const rows: Record<string, Timing> = {};
      for (const [name, path, query] of endpointRequests(nowMs))
        rows[name] = await timeRequest(handler, path, query);
      console.table(
        Object.fromEntries(
          Object.entries(rows).map(([name, timing]) => [
            name,
            {
              'first ms': round(timing.first),
              'p50 ms': round(timing.p50),
              'p95 ms': round(timing.p95),
              'items read': timing.itemsRead,
              'read units': round(timing.readUnits),
              'our CPU ms': round(timing.cpuMs),
              status: timing.status,
            },
          ]),
        ),
      );
      console.log(
        `dashboard load (${dashboard.requests} requests, 30 days, in parallel): first ${round(dashboard.first)} ms (right after the load: every item decoded anew), then p50 ${round(dashboard.p50)} ms, p95 ${round(dashboard.p95)} ms; ${dashboard.itemsRead} items read, ${round(dashboard.readUnits)} read units, ${round(dashboard.cpuMs)} ms of this process's CPU per load (the rest of the time is DynamoDB Local's)`,
      );
      const entry: Record<string, unknown> = { endpoints: rows, dashboard };
      if (baseline) {
        const flat = await baseline.timeDashboard(nowMs);
        console.log(
          `PostgreSQL flat table, same dashboard (sequential, one connection): p50 ${round(flat.p50)} ms, p95 ${round(flat.p95)} ms → ${round(flat.p50 / dashboard.p50)}× ours (p50)`,
        );
        console.log(
          `  slowest query per kind (ms): ${JSON.stringify(Object.fromEntries(Object.entries(flat.perQuery).map(([k, v]) => [k, round(v)])))}`,
        );
        entry.postgres = flat;
      }
      report[String(volume)] = entry;
    }
  } finally {
    await baseline?.close();
    await fixture.stop();
  }
  // Items read per request, side by side: flat means the same count at every
  // volume once every (model, bucket) item exists; a sparse small volume can
  // only read fewer (an hour without a run of a model has no item).
  const names = endpointRequests(nowMs).map(([name]) => name);
  console.log('\nitems read per request by volume:');
  console.table(
    Object.fromEntries(
      names.map((name) => [
        name,
        Object.fromEntries(
          volumes.map((volume) => [
            `${volume / 1000}k`,
            (report[String(volume)] as { endpoints: Record<string, Timing> }).endpoints[name]?.itemsRead,
          ]),
        ),
      ]),
    ),
  );
}
