/**
 * Aggregation bench: what the stream handler costs per run, how big its
 * items get, how fresh the dashboard is, and what a million runs cost, with
 * the stream as N shards (`npm run bench -- aggregate --shards 4`).
 *
 * - Write cost: 6,000 runs over 6 hours (5 models, 20 % failures, six error
 *   types, log-normal durations) POSTed 100 at a time to the local runtime,
 *   whose stream runs as `--shards` shards (hash of executionId, each with its
 *   own poller, as a table with that many partitions has in AWS). Every
 *   aggregate UpdateItem is counted at the shared client: requests, the ones
 *   that succeeded (the rest failed their condition and were sent again), and
 *   write units as DynamoDB bills an UpdateItem: the item's size rounded up to
 *   1 KB, for a failed condition too (sizes from the items written / refused).
 * - Item size: the largest item written, the hour and day items afterwards,
 *   and the most `w:<shard>` watermarks one item carries.
 * - Freshness: on the idle runtime, POST one run, then GET /api/summary every
 *   5 ms until it counts it.
 * - Cost per million runs: bench/cost-model.ts with the measured units and
 *   the prices in bench/prices.ts.
 *
 * The runs are POSTed as fast as the runtime takes them (~400–500 a second), so by default
 * a second of posting holds ~25 minutes of start times and a batch touches the items of
 * one to three hours. `--runs N --hours H` sets the count and span apart: `--runs 6000
 * --hours 0.005` (18 s of starts) is about live traffic at that rate, each batch within one hour.
 *
 * Flags: --shards N (default 1), --freshness-samples N (default 40), --hours N (default 6),
 * --runs N (default 1,000 per hour),
 * --batching-window-ms N and --batch-size N of each shard's poller (default the local
 * runtime's 100 ms and STREAM_BATCH_SIZE records; the deployed mapping's window is
 * streamBatchingWindowSeconds, lib/config.ts), --idle-poll-ms N: the longest pause between
 * reads of an idle shard (default the local 100 ms; 250 is Lambda's base rate of 4 polls a second).
 */
import { performance } from 'node:perf_hooks';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ExecutionRecord } from '../functions/domain/execution';
import { STREAM_BATCH_SIZE } from '../functions/domain/stream-batch';
import { itemSizeBytes } from '../functions/store/aggregate-keys';
import { toRunItem } from '../functions/store/run-item';
import { startLocalRuntime } from '../local/runtime';
import { seededRandom } from '../test/support/run-dataset';
import { costPerMillionRuns, type MeasuredUnits, totalOf } from './cost-model';
import { assumptions } from './prices';
import { flagNumber, percentile } from './support';

const MODELS = ['bench-sonnet', 'bench-opus', 'bench-haiku', 'bench-gpt', 'bench-gemini'] as const;
const ERROR_TYPES = [
  'TestFailure',
  'TestFailure',
  'Timeout',
  'BuildError',
  'PatchConflict',
  'RateLimited',
  'ToolCrash',
];
const RUNS_PER_HOUR = 1_000;
const BATCH_SIZE = 100;
const HOUR_MS = 3_600_000;

/** `count` runs starting in order over `hours` hours from `startMs`. */
function steadyLoad(count: number, hours: number, startMs: number): ExecutionRecord[] {
  const random = seededRandom(2026);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: count }, (_, index) => {
    const start = startMs + Math.floor((index / count) * hours * HOUR_MS);
    const durationMs = Math.max(1_000, Math.round(Math.exp(Math.log(150_000) + gaussian())));
    const failed = random() < 0.2;
    const inputTokens = Math.round(20_000 + random() * 80_000);
    return {
      executionId: `bench-${index}`,
      startTime: new Date(start).toISOString(),
      endTime: new Date(start + durationMs).toISOString(),
      status: failed ? 'failure' : 'success',
      model: MODELS[Math.floor(random() * MODELS.length)] ?? MODELS[0],
      inputTokens,
      outputTokens: Math.round(inputTokens * 0.1),
      cacheReadTokens: Math.round(inputTokens * random()),
      cacheWriteTokens: Math.round(2_000 * random()),
      costUsd: random() < 0.1 ? null : Math.round(random() * 2_000_000) / 1_000_000,
      llmCalls: Math.round(5 + random() * 30),
      toolCalls: Math.round(10 + random() * 60),
      filesModified: failed ? 0 : Math.round(random() * 8),
      ...(failed ? { errorType: ERROR_TYPES[Math.floor(random() * ERROR_TYPES.length)] } : {}),
    } as ExecutionRecord;
  });
}

interface WriteFigures {
  readonly runs: number;
  /** UpdateItem requests on aggregate items, condition failures included. */
  readonly updateRequests: number;
  /** UpdateItems that succeeded. */
  readonly successfulUpdates: number;
  /** Write units as DynamoDB bills them: ⌈item size / 1 KB⌉ per request, failed conditions included. */
  readonly writeUnits: number;
  readonly registryPuts: number;
  /** Largest aggregate item written (its new image). */
  readonly largestItemBytes: number;
  /** Most `w:<shard>` watermark attributes on one item, and their bytes. */
  readonly mostWatermarks: number;
  readonly watermarkBytes: number;
  readonly hourItemBytes: number[];
  readonly dayItemBytes: number[];
  readonly executionsItemBytes: number;
  readonly catchUpSeconds: number;
}

/** A size in 1 KB write units, as DynamoDB rounds it. */
const writeUnitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * The steady load through the running system: POSTs of 100 runs to the local
 * runtime, the stream as `shards` shards, the real handler. Every aggregate
 * UpdateItem is counted at the shared client; each is charged by the size of
 * the item it wrote (its new image, asked for with ReturnValues ALL_NEW) or,
 * for a failed condition, of the item it was refused on (ALL_OLD).
 */
async function measureWrites(
  url: string,
  load: { runs: number; hours: number },
  waitUntilCaughtUp: () => Promise<void>,
) {
  const { dynamodb } = await import('../functions/store/clients');
  let updateRequests = 0;
  let successfulUpdates = 0;
  let writeUnits = 0;
  let registryPuts = 0;
  let largestItemBytes = 0;
  let mostWatermarks = 0;
  let watermarkBytes = 0;
  const send = dynamodb.send.bind(dynamodb) as (command: unknown, options?: unknown) => Promise<unknown>;
  const counting = async (
    command: { constructor: { name: string }; input: { TableName?: string; ReturnValues?: string } },
    options?: unknown,
  ) => {
    const isUpdate =
      command.constructor.name === 'UpdateItemCommand' && command.input.TableName === 'Aggregates';
    if (isUpdate) {
      updateRequests++;
      command.input.ReturnValues = 'ALL_NEW';
    } else if (command.constructor.name === 'PutItemCommand' && command.input.TableName === 'Aggregates')
      registryPuts++;
    try {
      const output = (await send(command, options)) as { Attributes?: Record<string, AttributeValue> };
      if (isUpdate && output.Attributes) {
        successfulUpdates++;
        const bytes = itemSizeBytes(output.Attributes);
        writeUnits += writeUnitsOf(bytes);
        largestItemBytes = Math.max(largestItemBytes, bytes);
        const watermarks = Object.entries(output.Attributes).filter(([name]) => name.startsWith('w:'));
        if (watermarks.length > mostWatermarks) {
          mostWatermarks = watermarks.length;
          watermarkBytes = itemSizeBytes(Object.fromEntries(watermarks));
        }
      }
      return output;
    } catch (error) {
      const refused = (error as { Item?: Record<string, AttributeValue> }).Item;
      if (isUpdate) writeUnits += writeUnitsOf(refused ? itemSizeBytes(refused) : 0);
      throw error;
    }
  };
  (dynamodb as unknown as { send: typeof counting }).send = counting;

  const runs = steadyLoad(load.runs, load.hours, Date.parse('2026-10-01T00:00:00Z'));
  const began = performance.now();
  try {
    for (let start = 0; start < runs.length; start += BATCH_SIZE) {
      const response = await fetch(`${url}/api/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ executions: runs.slice(start, start + BATCH_SIZE) }),
      });
      if (!response.ok) throw new Error(`POST /api/executions answered ${response.status}`);
    }
    await waitUntilCaughtUp();
  } finally {
    (dynamodb as unknown as { send: typeof send }).send = send;
  }
  const catchUpSeconds = (performance.now() - began) / 1000;

  const hourItemBytes: number[] = [];
  const dayItemBytes: number[] = [];
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: 'Aggregates', ExclusiveStartKey: exclusiveStartKey }),
    );
    for (const item of page.Items ?? []) {
      const pk = item.pk?.S ?? '';
      if (pk.startsWith('A#H#bench-')) hourItemBytes.push(itemSizeBytes(item));
      if (pk.startsWith('A#D#bench-')) dayItemBytes.push(itemSizeBytes(item));
    }
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);

  const image = marshall(toRunItem(runs[0] as ExecutionRecord, 90), { removeUndefinedValues: true });
  const figures: WriteFigures = {
    runs: runs.length,
    updateRequests,
    successfulUpdates,
    writeUnits,
    registryPuts,
    largestItemBytes,
    mostWatermarks,
    watermarkBytes,
    hourItemBytes,
    dayItemBytes,
    executionsItemBytes: itemSizeBytes(image),
    catchUpSeconds,
  };
  return figures;
}

async function measureFreshness(url: string, samples: number): Promise<number[]> {
  const today = new Date().toISOString().slice(0, 10);
  const summaryUrl = `${url}/api/summary?from=${today}&to=${today}`;
  const executionsNow = async () => {
    const response = await fetch(summaryUrl);
    if (!response.ok)
      throw new Error(`GET /api/summary answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { executions: number }).executions;
  };
  const seconds: number[] = [];
  let expected = await executionsNow();
  for (let sample = 0; sample < samples; sample++) {
    const start = new Date(Date.now() - 60_000);
    const run = {
      executionId: `fresh-${Date.now()}-${sample}`,
      startTime: start.toISOString(),
      endTime: new Date(start.getTime() + 30_000).toISOString(),
      status: 'success',
      model: 'bench-freshness',
      inputTokens: 100,
      outputTokens: 10,
    };
    const began = performance.now();
    const posted = await fetch(`${url}/api/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(run),
    });
    if (posted.status !== 202) throw new Error(`POST /api/executions answered ${posted.status}`);
    expected++;
    while ((await executionsNow()) < expected) {
      if (performance.now() - began > 10_000)
        throw new Error('a posted run did not reach the summary within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    seconds.push((performance.now() - began) / 1000);
  }
  return seconds;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
const usd = (amount: number) => `$${amount.toFixed(3)}`;

function printTable(rows: readonly (readonly string[])[]): void {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  for (const [index, row] of rows.entries()) {
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    );
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}

export async function run(flags: string[]): Promise<void> {
  const samples = flagNumber(flags, '--freshness-samples', 40);
  const hours = flagNumber(flags, '--hours', 6);
  const runCount = Math.round(flagNumber(flags, '--runs', RUNS_PER_HOUR * hours));
  const shards = flagNumber(flags, '--shards', 1);
  const batchingWindowMs = flagNumber(flags, '--batching-window-ms', 100, { zeroAllowed: true });
  const batchSize = flagNumber(flags, '--batch-size', STREAM_BATCH_SIZE);
  const idlePollMaxMs = flagNumber(flags, '--idle-poll-ms', 100);
  const handlerSeconds: number[] = [];
  const recordsPerInvocation: number[] = [];
  const runtime = await startLocalRuntime({
    port: 0,
    demo: false,
    quiet: true,
    buildFrontend: false,
    streamShards: shards,
    poller: { batchingWindowMs, batchSize, idlePollMaxMs },
    log: () => {},
    wrapAggregateHandler: (handler) => async (event) => {
      const began = performance.now();
      const result = await handler(event);
      if (event.Records.length > 0) {
        handlerSeconds.push((performance.now() - began) / 1000);
        recordsPerInvocation.push(event.Records.length);
      }
      return result;
    },
  });
  try {
    const freshness = await measureFreshness(runtime.url, samples);
    handlerSeconds.length = 0;
    recordsPerInvocation.length = 0;
    const writes = await measureWrites(runtime.url, { runs: runCount, hours }, () =>
      runtime.poller.waitUntilCaughtUp(600_000),
    );

    const writesPerRun = writes.updateRequests / writes.runs;
    const attemptsPerWrite = writes.updateRequests / writes.successfulUpdates;
    const unitsPerRun = writes.writeUnits / writes.runs;
    const unitsPerUpdate = writes.writeUnits / writes.updateRequests;
    const executionsWru = 2 * Math.ceil(writes.executionsItemBytes / 1024); // the table and its ALL-projection index
    const batchSeconds = percentile(handlerSeconds, 0.5);
    const runsPerBatch = writes.runs / Math.max(1, recordsPerInvocation.length);
    const batched: MeasuredUnits = {
      executionsWruPerRun: executionsWru,
      aggregatesWruPerRun: unitsPerRun,
      aggregateBatchSeconds: batchSeconds,
      runsPerStreamBatch: runsPerBatch,
      runsPerIngestRequest: assumptions.runsPerIngestRequest,
    };
    // A trickle of single-run POSTs: every stream batch holds one run and touches its hour and day items.
    const trickle: MeasuredUnits = {
      ...batched,
      aggregatesWruPerRun: 2 * unitsPerUpdate,
      aggregateBatchSeconds: batchSeconds / 10,
      runsPerStreamBatch: 1,
      runsPerIngestRequest: 1,
    };
    const batchedLines = costPerMillionRuns(batched);
    const trickleLines = costPerMillionRuns(trickle);

    console.log(
      `steady load: ${writes.runs} runs over ${hours} h, ${MODELS.length} models, POSTed ${BATCH_SIZE} at a time ` +
        `through the local runtime, stream as ${shards} shard${shards === 1 ? '' : 's'} (hash of executionId; ` +
        `batches of up to ${batchSize} records, batching window ${batchingWindowMs} ms, idle shards read every ${idlePollMaxMs} ms at most), ` +
        `${recordsPerInvocation.length} invocations (${runsPerBatch.toFixed(1)} records each on average), ` +
        `caught up ${writes.catchUpSeconds.toFixed(1)} s after the first POST; ` +
        `freshness: ${samples} single-run POSTs on the idle runtime (poller batching window included)`,
    );
    printTable([
      ['figure', 'measured', 'goal'],
      ['aggregate write requests (UpdateItem) per run', writesPerRun.toFixed(3), '≤ 0.1'],
      [
        'attempts per successful write (condition failures included)',
        `${attemptsPerWrite.toFixed(3)} (${writes.updateRequests} / ${writes.successfulUpdates})`,
        '≤ 1.2 at 4 shards',
      ],
      ['aggregate write units per run (⌈item size / 1 KB⌉ per request)', unitsPerRun.toFixed(3), 'reported'],
      ['write units per UpdateItem', unitsPerUpdate.toFixed(2), ''],
      ['largest aggregate item written', kb(writes.largestItemBytes), '≤ 64 KB'],
      [
        'most watermarks on one item (their bytes)',
        `${writes.mostWatermarks} (${kb(writes.watermarkBytes)})`,
        '',
      ],
      ['model-registry PutItems (once per model per container)', String(writes.registryPuts), ''],
      [
        'hour item size p50 / max',
        `${kb(percentile(writes.hourItemBytes, 0.5))} / ${kb(Math.max(...writes.hourItemBytes))}`,
        '',
      ],
      [
        'day item size p50 / max',
        `${kb(percentile(writes.dayItemBytes, 0.5))} / ${kb(Math.max(...writes.dayItemBytes))}`,
        '',
      ],
      ['Executions item size (+ same in the byStartTime index)', kb(writes.executionsItemBytes), ''],
      ['aggregate handler time per invocation p50 (local)', `${(batchSeconds * 1000).toFixed(0)} ms`, ''],
      [
        'POST-to-summary freshness p50 / p95 (local)',
        `${(percentile(freshness, 0.5) * 1000).toFixed(0)} / ${(percentile(freshness, 0.95) * 1000).toFixed(0)} ms`,
        'p95 ≤ 1 s',
      ],
    ]);
    console.log('\ncost per million runs (on-demand us-east-1, bench/prices.ts)');
    printTable([
      ['line item', 'batched ingest (100/POST)', 'single-run POSTs'],
      ...batchedLines.map((line, index) => [
        line.item,
        usd(line.usdPerMillionRuns),
        usd(trickleLines[index]?.usdPerMillionRuns ?? Number.NaN),
      ]),
      ['total', usd(totalOf(batchedLines)), usd(totalOf(trickleLines))],
      [
        '  of which the aggregation path (aggregate λ, Aggregates, PutMetricData)',
        usd(totalOf(batchedLines.slice(3))),
        usd(totalOf(trickleLines.slice(3))),
      ],
    ]);
    console.log(
      `goal ≤ $1 with batched ingest. Fixed monthly: ${3 + 3 * MODELS.length} custom metrics × $0.30 = $${((3 + 3 * MODELS.length) * 0.3).toFixed(2)} for ${MODELS.length} models; storage not included.`,
    );
  } finally {
    await runtime.stop();
  }
}
