/**
 * Aggregation bench: what the stream handler costs per run, how big its
 * items get, how fresh the dashboard is, and what a million runs cost.
 *
 * - Write cost: 6,000 runs over 6 hours (5 models, 20 % failures, six error
 *   types, log-normal durations) as stream INSERTs in batches of 100 through
 *   the real handler into DynamoDB Local; write requests and the
 *   ReturnConsumedCapacity units are counted at the shared client.
 * - Item size: the hour and day items afterwards, sized with DynamoDB's rules.
 * - Freshness: the local runtime (startLocalRuntime: HTTP server, stream
 *   poller with its batching window, handlers): POST one run, then GET
 *   /api/summary every 5 ms until it counts it.
 * - Cost per million runs: bench/cost-model.ts with the measured units and
 *   the prices in bench/prices.ts.
 *
 * Flags: --freshness-samples N (default 40), --hours N (default 6).
 */
import { performance } from 'node:perf_hooks';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { ExecutionRecord } from '../functions/domain/execution';
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
const SHARD_ID = 'shardId-00000001700000000000-bench001';
const HOUR_MS = 3_600_000;

/** Item size as DynamoDB charges it: names plus values (numbers: 1 byte per 2 significant digits + 1). */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (value.S !== undefined) size += Buffer.byteLength(value.S);
    else if (value.N !== undefined) {
      const digits = value.N.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
      size += Math.ceil(Math.max(digits.length, 1) / 2) + 1;
    } else size += Buffer.byteLength(JSON.stringify(value));
  }
  return size;
}

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
  readonly batches: number;
  readonly updateRequests: number;
  readonly capacityUnits: number;
  readonly registryPuts: number;
  readonly handlerSeconds: number[];
  readonly hourItemBytes: number[];
  readonly dayItemBytes: number[];
  readonly executionsItemBytes: number;
}

async function measureWrites(hours: number): Promise<WriteFigures> {
  const [{ dynamodb }, { createAggregateHandler }] = await Promise.all([
    import('../functions/store/clients'),
    import('../functions/aggregate'),
  ]);
  const handler = createAggregateHandler({
    aggregatesTableName: 'Aggregates',
    publishMetrics: async () => undefined,
  });
  let updateRequests = 0;
  let capacityUnits = 0;
  let registryPuts = 0;
  const send = dynamodb.send.bind(dynamodb) as (command: unknown) => Promise<unknown>;
  const counting = async (command: { constructor: { name: string } }) => {
    const output = (await send(command)) as { ConsumedCapacity?: { CapacityUnits?: number } };
    if (command.constructor.name === 'UpdateItemCommand') {
      updateRequests++;
      capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
    } else if (command.constructor.name === 'PutItemCommand') registryPuts++;
    return output;
  };
  (dynamodb as unknown as { send: typeof counting }).send = counting;

  const runs = steadyLoad(RUNS_PER_HOUR * hours, hours, Date.parse('2026-10-01T00:00:00Z'));
  const images = runs.map((run) => marshall(toRunItem(run, 90), { removeUndefinedValues: true }));
  const handlerSeconds: number[] = [];
  try {
    for (let start = 0; start < images.length; start += BATCH_SIZE) {
      const records = images.slice(start, start + BATCH_SIZE).map(
        (image, offset): DynamoDBRecord => ({
          eventID: `bench-${start + offset}`,
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          dynamodb: {
            SequenceNumber: `1${String(start + offset).padStart(20, '0')}`,
            NewImage: image as never,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        }),
      );
      const began = performance.now();
      await handler({ Records: records, shardId: SHARD_ID });
      handlerSeconds.push((performance.now() - began) / 1000);
    }
  } finally {
    (dynamodb as unknown as { send: typeof send }).send = send;
  }

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

  return {
    runs: runs.length,
    batches: handlerSeconds.length,
    updateRequests,
    capacityUnits,
    registryPuts,
    handlerSeconds,
    hourItemBytes,
    dayItemBytes,
    executionsItemBytes: itemSizeBytes(images[0] ?? {}),
  };
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
  const runtime = await startLocalRuntime({
    port: 0,
    demo: false,
    quiet: true,
    buildFrontend: false,
    log: () => {},
  });
  try {
    const freshness = await measureFreshness(runtime.url, samples);
    const writes = await measureWrites(hours);

    const writesPerRun = writes.updateRequests / writes.runs;
    const unitsPerRun = writes.capacityUnits / writes.runs;
    const unitsPerUpdate = writes.capacityUnits / writes.updateRequests;
    const executionsWru = 2 * Math.ceil(writes.executionsItemBytes / 1024); // the table and its ALL-projection index
    const batchSeconds = percentile(writes.handlerSeconds, 0.5);
    const batched: MeasuredUnits = {
      executionsWruPerRun: executionsWru,
      aggregatesWruPerRun: unitsPerRun,
      aggregateBatchSeconds: batchSeconds,
      runsPerStreamBatch: assumptions.runsPerStreamBatch,
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
      `steady load: ${writes.runs} runs over ${hours} h, ${MODELS.length} models, ${writes.batches} stream batches of ${BATCH_SIZE}; ` +
        `freshness: ${samples} single-run POSTs through the local runtime (poller batching window included)`,
    );
    printTable([
      ['figure', 'measured', 'goal'],
      ['aggregate write requests per run', writesPerRun.toFixed(3), '≤ 0.1'],
      ['aggregate write units per run (ReturnConsumedCapacity)', unitsPerRun.toFixed(3), 'reported'],
      ['write units per UpdateItem', unitsPerUpdate.toFixed(2), ''],
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
      ['aggregate handler time per batch p50 (local)', `${(batchSeconds * 1000).toFixed(0)} ms`, ''],
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
