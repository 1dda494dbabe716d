/**
 * `npm run bench -- cost`: what the system costs a month, from figures
 * measured here with the real handlers on DynamoDB Local, priced with
 * bench/prices.ts by bench/cost-model.ts.
 *
 * Measured: the Executions item size (DynamoDB's rules) and PutItem attempts
 * per run (batches of 100, 2 % of them re-sent as a client retry would); the
 * aggregate handler's write units (ReturnConsumedCapacity), handler time,
 * log bytes and PutMetricData calls per stream batch at the two batch sizes
 * the scenarios see (a POST of 100 split over 4 stream shards: 25 runs; a
 * single-run POST: 1); aggregate item sizes; and one dashboard load (read
 * units per item read, handler time and log bytes per request).
 * Handler times are this machine's, standing in for Lambda's billed duration.
 *
 * Flags: --runs N (default 2,000), --dashboards N (default 1).
 */
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { createTableInput } from '../local/dynamodb-local';
import { startDynamoFixture } from '../test/support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../test/support/events';
import { generateRuns } from '../test/support/run-dataset';
import { type Measured, monthlyCost, runsPerStreamBatch, type Scenario } from './cost-model';
import { deployment, PRICE_DATE } from './prices';
import { flagNumber, percentile } from './support';

const HOUR_MS = 3_600_000;

/** Bytes the process writes to stdout while `work` runs: the handlers' log lines. */
async function loggedBytes<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const write = process.stdout.write.bind(process.stdout);
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await work(), bytes };
  } finally {
    process.stdout.write = write;
  }
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

export async function run(flags: string[]): Promise<void> {
  const runCount = flagNumber(flags, '--runs', 2_000);
  const dashboards = flagNumber(flags, '--dashboards', 1);
  const fixture = await startDynamoFixture();
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO'; // as deployed (lib/constructs/house-function.ts)
  try {
    await fixture.client.send(
      new CreateTableCommand(
        createTableInput((await import('../functions/store/tables')).aggregatesTable, 'AggregatesSingle'),
      ),
    );
    // Imported once the environment points the SDK clients at DynamoDB Local.
    const { itemSizeBytes } = await import('../functions/store/aggregate-keys');
    const { dynamodb } = await import('../functions/store/clients');
    const calls = new Map<string, number>();
    let updateUnits = 0;
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName);
        calls.set(name, (calls.get(name) ?? 0) + 1);
        const output = await next(args);
        const consumed = (output.output as { ConsumedCapacity?: { CapacityUnits?: number } })
          .ConsumedCapacity;
        if (name === 'UpdateItemCommand') updateUnits += consumed?.CapacityUnits ?? 0;
        return output;
      },
      { step: 'initialize', name: 'costBenchCounter' },
    );
    const ingest = (await import('../functions/ingest')).handler as unknown as (
      event: unknown,
      context: unknown,
    ) => Promise<{ statusCode?: number }>;
    const { createAggregateHandler } = await import('../functions/aggregate');
    // The metrics go out as EMF log lines: counted here in bytes, as CloudWatch Logs bills them.
    let emfBytes = 0;
    const aggregateHandler = (tableName: string) =>
      createAggregateHandler({
        aggregatesTableName: tableName,
        emfSink: (line) => {
          emfBytes += Buffer.byteLength(line) + 1;
        },
      });

    // Ingest: batches of 100 over two hours, 2 % of the batches sent twice; then single-run POSTs.
    const startMs = Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    // In start order, as live traffic arrives: a stream batch touches one hour, not two.
    const runs = generateRuns(runCount, startMs, startMs + 2 * HOUR_MS, 5, 'cost')
      .map((run) => ({
        ...run,
        endTime: new Date(Math.min(Date.parse(run.endTime), Date.now() - 60_000)).toISOString(),
      }))
      .sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
    const batchSeconds: number[] = [];
    let ingestLog = 0;
    let posts = 0;
    let sentRuns = 0;
    const post = async (body: unknown) => {
      const started = performance.now();
      const { result, bytes } = await loggedBytes(() =>
        ingest(httpEvent('POST', '/api/executions', { body: JSON.stringify(body) }), lambdaContext),
      );
      if (result.statusCode !== 202) throw new Error(`ingest answered ${result.statusCode}`);
      ingestLog += bytes;
      posts++;
      return (performance.now() - started) / 1000;
    };
    const singles = runs.slice(0, 200);
    const batched = runs.slice(200);
    for (let index = 0; index < batched.length; index += 100) {
      const batch = batched.slice(index, index + 100);
      batchSeconds.push(await post({ executions: batch }));
      sentRuns += batch.length;
      if ((index / 100) % 50 === 0) {
        await post({ executions: batch }); // a client's retry: condition failures, charged
        sentRuns += batch.length;
      }
    }
    const putsBatched = calls.get('PutItemCommand') ?? 0;
    const singleSeconds: number[] = [];
    for (const run of singles) singleSeconds.push(await post(run));
    sentRuns += singles.length;
    const { toRunItem } = await import('../functions/store/run-item');
    const itemBytes = runs.map((run) =>
      itemSizeBytes(marshall(toRunItem(run, deployment.rawRetentionDays), { removeUndefinedValues: true })),
    );

    // Aggregation at 25 and at 1 run per stream batch, each into its own table.
    const records: { shardId: string; record: DynamoDBRecord }[] = (await fixture.readStream()).flatMap(
      ({ shardId, records: shardRecords }) => shardRecords.map((record) => ({ shardId, record })),
    );
    const aggregateAt = async (tableName: string, perBatch: number, limit: number) => {
      const handler = aggregateHandler(tableName);
      const unitsBefore = updateUnits;
      const emfBytesBefore = emfBytes;
      const seconds: number[] = [];
      let logBytes = 0;
      let runsDone = 0;
      for (let index = 0; index < Math.min(limit, records.length); index += perBatch) {
        const slice = records.slice(index, Math.min(index + perBatch, limit));
        const started = performance.now();
        const { result, bytes } = await loggedBytes(() =>
          handler({ Records: slice.map((entry) => entry.record), shardId: slice[0]?.shardId } as never),
        );
        if ((result as { batchItemFailures: unknown[] }).batchItemFailures.length > 0)
          throw new Error('poison');
        seconds.push((performance.now() - started) / 1000);
        logBytes += bytes;
        runsDone += slice.length;
      }
      const batches = seconds.length;
      return {
        wruPerRun: (updateUnits - unitsBefore) / runsDone,
        secondsPerBatch: percentile(seconds, 0.5),
        logBytesPerBatch: logBytes / batches,
        emfBytesPerBatch: (emfBytes - emfBytesBefore) / batches,
      };
    };
    const at25 = await aggregateAt('Aggregates', 25, records.length);
    const at1 = await aggregateAt('AggregatesSingle', 1, 400);

    // Aggregate item sizes.
    const aggregateItems =
      (await fixture.client.send(new ScanCommand({ TableName: 'Aggregates' }))).Items ?? [];
    const sizes = { hour: [] as number[], day: [] as number[] };
    for (const item of aggregateItems) {
      const sk = item.sk?.S ?? '';
      if (/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(sk)) sizes.hour.push(itemSizeBytes(item));
      else if (/^\d{4}-\d{2}-\d{2}$/.test(sk)) sizes.day.push(itemSizeBytes(item));
    }
    const hourItems = sizes.hour.length / 2; // per hour (the data set covers two hours)
    const aggregateBytesPerRun = (runsPerMonth: number) => {
      const runsPerHour = runsPerMonth / (deployment.daysPerMonth * 24);
      return (
        (hourItems * mean(sizes.hour)) / runsPerHour + (hourItems * mean(sizes.day)) / (runsPerHour * 24)
      );
    };

    // One dashboard load (the 30 days the dashboard shows by default).
    const { handler: query } = await import('../functions/query');
    let itemsRead = 0;
    let readUnits = 0;
    const querySeconds: number[] = [];
    let queryLog = 0;
    const dashboardPaths = [
      '/api/alarm',
      '/api/models',
      '/api/summary',
      '/api/timeseries',
      '/api/errors',
      '/api/summary',
      '/api/timeseries',
    ];
    for (const path of dashboardPaths) {
      const started = performance.now();
      const { result, bytes } = await loggedBytes(() =>
        query(
          httpEvent('GET', path, {
            query:
              path === '/api/alarm'
                ? {}
                : { from: new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10) },
          }),
          lambdaContext,
        ),
      );
      querySeconds.push((performance.now() - started) / 1000);
      queryLog += bytes;
      itemsRead += Number(result.headers?.['x-items-read'] ?? 0);
      readUnits += Number(result.headers?.['x-read-capacity-units'] ?? 0);
    }

    const putCalls = calls.get('PutItemCommand') ?? 0;
    const measured: Measured = {
      executionItemBytes: mean(itemBytes),
      putAttemptsPerRun: putCalls / runs.length,
      putStoredShare: runs.length / putCalls,
      aggregateWruPerRun: (perBatch) => (perBatch >= 25 ? at25.wruPerRun : at1.wruPerRun),
      aggregateSecondsPerBatch: (perBatch) => (perBatch >= 25 ? at25.secondsPerBatch : at1.secondsPerBatch),
      ingestSecondsPerRequest: (perPost) =>
        perPost >= 100 ? percentile(batchSeconds, 0.5) : percentile(singleSeconds, 0.5),
      ingestLogBytesPerRequest: ingestLog / posts,
      aggregateLogBytesPerBatch: mean([at25.logBytesPerBatch, at1.logBytesPerBatch]),
      metricEmfBytesPerBatch: (perBatch) => (perBatch >= 25 ? at25.emfBytesPerBatch : at1.emfBytesPerBatch),
      aggregateBytesPerRun,
      readUnitsPerItemRead: itemsRead === 0 ? 0 : readUnits / itemsRead,
      querySecondsPerRequest: percentile(querySeconds, 0.5),
      queryLogBytesPerRequest: queryLog / dashboardPaths.length,
    };

    console.log(
      `measured: ${runs.length} runs (${sentRuns} sent, ${putsBatched} PutItems for the batched ones), ` +
        `${records.length} stream records; ${PRICE_DATE}`,
    );
    const table: string[][] = [
      ['figure', 'measured'],
      ['Executions item (DynamoDB bytes, mean)', measured.executionItemBytes.toFixed(0)],
      ['PutItem attempts per run (2 % of batches re-sent)', measured.putAttemptsPerRun.toFixed(3)],
      [
        'aggregate write units per run, 25 / 1 runs per batch',
        `${at25.wruPerRun.toFixed(3)} / ${at1.wruPerRun.toFixed(3)}`,
      ],
      [
        'aggregate handler ms per batch p50, 25 / 1',
        `${(at25.secondsPerBatch * 1000).toFixed(1)} / ${(at1.secondsPerBatch * 1000).toFixed(1)}`,
      ],
      [
        'ingest handler ms per POST p50, 100 / 1 runs',
        `${(percentile(batchSeconds, 0.5) * 1000).toFixed(1)} / ${(percentile(singleSeconds, 0.5) * 1000).toFixed(1)}`,
      ],
      [
        'log bytes per ingest POST / aggregate batch / query',
        `${measured.ingestLogBytesPerRequest.toFixed(0)} / ${measured.aggregateLogBytesPerBatch.toFixed(0)} / ${measured.queryLogBytesPerRequest.toFixed(0)}`,
      ],
      [
        'EMF metric log bytes per aggregate batch, 25 / 1 runs per batch',
        `${at25.emfBytesPerBatch.toFixed(0)} / ${at1.emfBytesPerBatch.toFixed(0)}`,
      ],
      [
        'hour / day aggregate item bytes, mean',
        `${mean(sizes.hour).toFixed(0)} / ${mean(sizes.day).toFixed(0)}`,
      ],
      ['read units per aggregate item read (dashboard load)', measured.readUnitsPerItemRead.toFixed(3)],
      ['query handler ms per request p50', (measured.querySecondsPerRequest * 1000).toFixed(1)],
    ];
    printTable(table);

    const scenarios: [string, Scenario][] = [];
    for (const runsPerMonth of [1_000_000, 10_000_000])
      for (const runsPerPost of [100, 1])
        scenarios.push([
          `${runsPerMonth / 1e6} M runs, ${runsPerPost === 1 ? 'single-run POSTs' : 'POSTs of 100'}`,
          { runsPerMonth, runsPerPost, liveDashboards: dashboards },
        ]);
    const costs = scenarios.map(([, scenario]) => monthlyCost(scenario, measured));
    console.log(
      `\nUSD per month (${PRICE_DATE}; ${deployment.streamShards} stream shards, ${deployment.streamWindowSeconds} s batching window, ${deployment.rawRetentionDays}-day raw retention)`,
    );
    const usd = (value: number) => (value < 0.01 ? value.toFixed(4) : value.toFixed(2));
    printTable([
      ['line', ...scenarios.map(([name]) => name)],
      ...(costs[0] ?? []).map((line, row) => [
        line.item,
        ...costs.map((lines) => usd(lines[row]?.usdPerMonth ?? 0)),
      ]),
      [
        'runs per stream batch',
        ...scenarios.map(([, s]) =>
          runsPerStreamBatch(s, deployment.streamShards, deployment.streamWindowSeconds).toFixed(1),
        ),
      ],
      ['total', ...costs.map((lines) => usd(lines.reduce((sum, line) => sum + line.usdPerMonth, 0)))],
      [
        'total without dashboards, per million runs',
        ...costs.map((lines, index) =>
          usd(
            (lines.slice(0, -1).reduce((sum, line) => sum + line.usdPerMonth, 0) /
              (scenarios[index]?.[1].runsPerMonth ?? 1)) *
              1e6,
          ),
        ),
      ],
      [
        'one live dashboard',
        ...costs.map((lines) => usd((lines.at(-1)?.usdPerMonth ?? 0) / Math.max(1, dashboards))),
      ],
    ]);
  } finally {
    await fixture.stop();
  }
}

function printTable(rows: string[][]): void {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const [index, row] of rows.entries()) {
    console.log(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    );
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}
