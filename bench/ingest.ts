/**
 * Ingest bench: runs/s through POST /api/executions against the raw PutItem
 * rate of the same DynamoDB Local, measured side by side in one run.
 *
 * - The local runtime (`local/main.ts --no-demo`: HTTP server, ingest handler,
 *   stream poller, DynamoDB Local) runs in a child process, as `npm start`
 *   runs it, so the bench client does not share its event loop.
 * - Raw: unconditional PutItem of the same run items into the same
 *   Executions table of that DynamoDB Local, at the same concurrency. Its
 *   writes reach the stream too, so the poller does the same work per item in
 *   every phase; between phases the bench waits (a bounded time) for it to
 *   catch up.
 * - Ingest: single runs, then batches of 50, each request with fresh ids.
 * - OTLP (through the runtime only): POST /v1/traces with exports of 50
 *   whole traces (an agent span with 6 chat and 9 tool spans each), as JSON
 *   and as gzip-compressed protobuf, written by the OpenTelemetry SDK's own
 *   serializers. Each trace costs a GetItem and a PutItem of its waiting
 *   spans, the run's PutItem and a GetItem to check no other export raced it.
 *
 * Without local/main.ts the handler is invoked in-process with API Gateway v2
 * events on the test fixture's DynamoDB Local (the output says so). Nothing asserts on time.
 *
 * Flags: --seconds N per phase (default 5), --concurrency N (default 32),
 * --batch N (default 50), --direct (invoke the handler in-process even when the runtime exists).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { marshall } from '@aws-sdk/util-dynamodb';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { validateExecution } from '../functions/domain/execution';
import { toRunItem } from '../functions/store/run-item';
import { localAwsSettings } from '../local/dynamodb-local';
import { type PlainSpan, readableSpan } from '../test/support/otlp-spans';
import { flagNumber, percentile } from './support';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const WARM_UP_MS = 1_000;
/** DynamoDB Local's JVM is cold at first; the first phase warms it up longer. */
const FIRST_WARM_UP_MS = 2_000;
/** The SDK's default socket pool: how many PutItems one handler process keeps in flight at most. */
const HANDLER_SOCKETS = 50;
const CATCH_UP_LIMIT_MS = 10_000;

let serial = 0;

/** A realistic run with a fresh executionId. */
function benchRun(): Record<string, unknown> {
  const n = serial++;
  const startMs = Date.parse('2026-11-01T00:00:00Z') + (n % 86_400) * 1_000;
  return {
    executionId: `bench-${process.pid}-${n}`,
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + 60_000 + (n % 240) * 1_000).toISOString(),
    status: n % 5 === 0 ? 'failure' : 'success',
    model: ['bench-sonnet', 'bench-opus', 'bench-haiku'][n % 3],
    inputTokens: 20_000 + (n % 5_000),
    outputTokens: 2_000 + (n % 700),
    cacheReadTokens: 10_000 + (n % 3_000),
    cacheWriteTokens: 1_000,
    costUsd: 0.012345 + (n % 1_000) / 1e6,
    llmCalls: 6,
    toolCalls: 9,
    filesModified: n % 4,
    ...(n % 5 === 0
      ? { errorType: 'TestFailure', errorMessage: 'expected 2, got 3 in test_parser.py::test_edge' }
      : {}),
  };
}

/**
 * The same kind of run as OpenTelemetry GenAI spans: one trace with an
 * `invoke_agent` span and, under it, 6 `chat` and 9 `execute_tool` spans,
 * as the run of `benchRun` reports 6 LLM and 9 tool calls.
 */
function benchTraceSpans(): PlainSpan[] {
  const n = serial++;
  const traceId = `${process.pid.toString(16).padStart(8, '0')}${n.toString(16).padStart(24, '0')}`.slice(
    -32,
  );
  const agentId = `a${n.toString(16).padStart(15, '0')}`.slice(-16);
  const start = BigInt(Date.parse('2026-11-01T00:00:00Z') + (n % 86_400) * 1_000) * 1_000_000n;
  const model = ['bench-sonnet', 'bench-opus', 'bench-haiku'][n % 3] as string;
  const child = (index: number, attributes: PlainSpan['attributes']): PlainSpan => ({
    traceId,
    spanId: `${index.toString(16).padStart(2, '0')}${n.toString(16).padStart(14, '0')}`.slice(-16),
    parentSpanId: agentId,
    name: String(attributes['gen_ai.operation.name']),
    startTimeUnixNano: start + BigInt(index) * 1_000_000_000n,
    endTimeUnixNano: start + BigInt(index + 1) * 1_000_000_000n,
    attributes,
  });
  return [
    ...Array.from({ length: 6 }, (_, index) =>
      child(index + 1, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': model,
        'gen_ai.usage.input_tokens': 5_000 + (n % 900),
        'gen_ai.usage.cache_read.input_tokens': 1_700,
        'gen_ai.usage.output_tokens': 350,
      }),
    ),
    ...Array.from({ length: 9 }, (_, index) => child(index + 7, { 'gen_ai.operation.name': 'execute_tool' })),
    {
      traceId,
      spanId: agentId,
      name: 'invoke_agent fixer',
      startTimeUnixNano: start,
      endTimeUnixNano: start + 120_000_000_000n,
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'fixer.files_modified': n % 4 },
      ...(n % 5 === 0 ? { error: { message: 'expected 2, got 3 in test_parser.py::test_edge' } } : {}),
    },
  ];
}

interface PhaseResult {
  readonly name: string;
  readonly requests: number;
  readonly runs: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly failures: number;
  readonly firstFailure?: string;
}

/** Runs `operation` from `concurrency` loops for `ms`, after a warm-up that is not counted. */
async function measure(
  name: string,
  concurrency: number,
  ms: number,
  operation: () => Promise<{ runs: number; ok: boolean; detail?: string }>,
  warmUpMs = WARM_UP_MS,
): Promise<PhaseResult> {
  let counting = false;
  let stopAt = performance.now() + warmUpMs;
  const result = { name, requests: 0, runs: 0, seconds: 0, latenciesMs: [] as number[], failures: 0 } as {
    -readonly [K in keyof PhaseResult]: PhaseResult[K];
  };
  const loop = async () => {
    while (performance.now() < stopAt) {
      const started = performance.now();
      const outcome = await operation().catch((error: Error) => ({
        runs: 0,
        ok: false,
        detail: error.message,
      }));
      if (!counting) continue;
      result.requests++;
      result.latenciesMs.push(performance.now() - started);
      if (outcome.ok) result.runs += outcome.runs;
      else {
        result.failures++;
        result.firstFailure ??= outcome.detail;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  counting = true;
  const startedAt = performance.now();
  stopAt = startedAt + ms;
  await Promise.all(Array.from({ length: concurrency }, loop));
  result.seconds = (performance.now() - startedAt) / 1000;
  return result;
}

/** The local runtime as `npm start -- --no-demo` runs it, in a child process. */
async function startRuntimeProcess(): Promise<{ url: string; dynamoEndpoint: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'local', 'main.ts'), '--no-demo', '--port', '0'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        POWERTOOLS_LOG_LEVEL: 'WARN',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`local runtime did not start in 90 s:\n${output}`)),
      90_000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      const dynamo = /DynamoDB Local on port (\d+)/.exec(output);
      if (ready?.[1] && dynamo?.[1]) {
        clearTimeout(timer);
        resolve({ url: ready[1], dynamoEndpoint: `http://127.0.0.1:${dynamo[1]}`, child });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`local runtime exited with ${code}:\n${output}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

type Poster = (body: string) => Promise<{ status: number; body: string }>;

/**
 * PutItem as DynamoDB's JSON protocol, without the SDK: the raw baseline
 * should measure DynamoDB Local, not the bench client's CPU on a busy machine.
 * DynamoDB Local wants an Authorization header but does not check it.
 */
const DYNAMODB_PUT_HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'DynamoDB_20120810.PutItem',
  authorization: `AWS4-HMAC-SHA256 Credential=${localAwsSettings.accessKeyId}/20260101/${localAwsSettings.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
};

/** POSTs bodies over a keep-alive pool of `sockets` connections. */
function httpJsonPoster(
  url: string,
  sockets: number,
): (body: string | Buffer, headers: Record<string, string>) => Promise<{ status: number; body: string }> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(url);
  return (body, headers) =>
    new Promise((resolve, reject) => {
      const call = request(
        target,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      call.on('error', reject);
      call.end(body);
    });
}

function httpPoster(url: string, concurrency: number): Poster {
  const post = httpJsonPoster(new URL('/api/executions', url).href, concurrency);
  return (body) => post(body, { 'content-type': 'application/json' });
}

type TracesPoster = (
  body: Buffer,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

function httpTracesPoster(url: string, concurrency: number): TracesPoster {
  const post = httpJsonPoster(new URL('/v1/traces', url).href, concurrency);
  return (body, headers) => post(body, headers);
}

/** Fallback while local/main.ts is missing: the handler called in this process with API Gateway v2 events. */
async function directPoster(): Promise<Poster> {
  const { httpEvent, lambdaContext } = await import('../test/support/events');
  const { handler } = await import('../functions/ingest');
  return async (body) => {
    const result = await handler(httpEvent('POST', '/api/executions', { body }), lambdaContext);
    return { status: result.statusCode ?? 0, body: result.body ?? '' };
  };
}

async function recordsProcessed(url: string): Promise<number | undefined> {
  try {
    const health = (await (await fetch(new URL('/api/health', url))).json()) as {
      local?: { stream?: { recordsProcessed?: number } };
    };
    return health.local?.stream?.recordsProcessed;
  } catch {
    return undefined;
  }
}

/** Waits, a bounded time, until the stream poller has handled every write so far. */
async function waitForPoller(url: string | undefined, written: number): Promise<string> {
  if (!url) return '';
  const started = performance.now();
  while (performance.now() - started < CATCH_UP_LIMIT_MS) {
    const processed = await recordsProcessed(url);
    if (processed === undefined) return '';
    if (processed >= written) return '';
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const processed = (await recordsProcessed(url)) ?? 0;
  return ` (poller still ${written - processed} records behind when the next phase started)`;
}

export async function run(flags: string[]): Promise<void> {
  const seconds = flagNumber(flags, '--seconds', 5);
  const concurrency = flagNumber(flags, '--concurrency', 32);
  const batchSize = Math.min(100, flagNumber(flags, '--batch', 50));

  const viaHttp = !flags.includes('--direct') && existsSync(join(repoRoot, 'local', 'main.ts'));
  let url: string | undefined;
  let dynamoEndpoint: string;
  let cleanup: () => Promise<void>;
  // A fresh connection pool per phase: sockets left idle between phases are
  // closed by the server (keep-alive timeout) and would fail on reuse.
  let newPoster: () => Promise<Poster>;
  if (viaHttp) {
    const runtime = await startRuntimeProcess();
    url = runtime.url;
    dynamoEndpoint = runtime.dynamoEndpoint;
    newPoster = async () => httpPoster(runtime.url, concurrency);
    cleanup = () => stopChild(runtime.child);
  } else {
    // The test fixture starts DynamoDB Local, creates the tables and points the handler's env at them.
    const { startDynamoFixture } = await import('../test/support/dynamo-fixture');
    const fixture = await startDynamoFixture();
    dynamoEndpoint = fixture.endpoint;
    newPoster = directPoster;
    cleanup = () => fixture.stop();
  }

  try {
    const results: PhaseResult[] = [];
    const notes: string[] = [];
    let written = 0;

    let rawPost = httpJsonPoster(dynamoEndpoint, HANDLER_SOCKETS);
    const rawPut = async () => {
      const validated = validateExecution(benchRun());
      if (!validated.ok) throw new Error('bench run invalid');
      // The same item the handler stores, marshalled the same way, written without a condition.
      const item = marshall(toRunItem(validated.record, 90), { removeUndefinedValues: true });
      const answer = await rawPost(
        JSON.stringify({ TableName: 'Executions', Item: item }),
        DYNAMODB_PUT_HEADERS,
      );
      if (answer.status !== 200)
        return { runs: 0, ok: false, detail: `${answer.status} ${answer.body.slice(0, 200)}` };
      written++;
      return { runs: 1, ok: true };
    };
    const phaseMs = seconds * 1000;
    results.push(
      await measure(`raw PutItem, ${concurrency} in flight`, concurrency, phaseMs, rawPut, FIRST_WARM_UP_MS),
    );
    notes.push(await waitForPoller(url, written));
    rawPost = httpJsonPoster(dynamoEndpoint, HANDLER_SOCKETS);
    // A batch request keeps up to HANDLER_SOCKETS puts in flight, so raw is also measured at that depth.
    results.push(
      await measure(`raw PutItem, ${HANDLER_SOCKETS} in flight`, HANDLER_SOCKETS, phaseMs, rawPut),
    );
    notes.push(await waitForPoller(url, written));
    const rawRate = Math.max(...results.map((result) => result.runs / result.seconds));

    const ingestPhase = async (name: string, size: number) => {
      const post = await newPoster();
      return measure(name, concurrency, seconds * 1000, async () => {
        const runs = Array.from({ length: size }, benchRun);
        const body = JSON.stringify(size === 1 ? runs[0] : { executions: runs });
        const answer = await post(body);
        const accepted =
          answer.status === 202 ? (JSON.parse(answer.body) as { accepted: number }).accepted : 0;
        written += accepted;
        return accepted === size
          ? { runs: size, ok: true }
          : { runs: 0, ok: false, detail: `${answer.status} ${answer.body.slice(0, 200)}` };
      });
    };

    results.push(await ingestPhase('POST single run', 1));
    notes.push(await waitForPoller(url, written));
    const batched = await ingestPhase(`POST batch of ${batchSize}`, batchSize);
    results.push(batched);
    notes.push(await waitForPoller(url, written));

    // OTLP: exports of `batchSize` whole traces (16 spans each), as the SDK's serializers write them.
    const tracesPhase = async (name: string, encoding: 'json' | 'protobuf', gzip: boolean) => {
      if (url === undefined) return undefined;
      const post = httpTracesPoster(url, concurrency);
      return measure(name, concurrency, seconds * 1000, async () => {
        const spans = Array.from({ length: batchSize }, benchTraceSpans).flat().map(readableSpan);
        const serializer = encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer;
        const bytes = Buffer.from(serializer.serializeRequest(spans) as Uint8Array);
        const answer = await post(gzip ? gzipSync(bytes) : bytes, {
          'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        if (answer.status !== 200)
          return { runs: 0, ok: false, detail: `${answer.status} ${answer.body.slice(0, 200)}` };
        // Each run writes its trace's spans item and the run itself.
        written += 2 * batchSize;
        return { runs: batchSize, ok: true };
      });
    };
    for (const [name, encoding, gzip] of [
      [`OTLP JSON, ${batchSize} traces`, 'json', false],
      [`OTLP protobuf+gzip, ${batchSize}`, 'protobuf', true],
    ] as const) {
      const result = await tracesPhase(name, encoding, gzip);
      if (result === undefined) continue;
      results.push(result);
      notes.push(await waitForPoller(url, written));
    }

    const through = viaHttp
      ? `through the local HTTP runtime (local/main.ts --no-demo, child process, stream poller on)`
      : 'by invoking the ingest handler in-process with API Gateway v2 events (--direct, or local/main.ts not found)';
    console.log(
      `ingest throughput on DynamoDB Local, ${concurrency} concurrent clients, ${seconds} s per phase, ${through}`,
    );
    console.log('"vs raw" compares with the faster raw PutItem row');
    console.log(
      `${'mode'.padEnd(26)}${'requests/s'.padStart(12)}${'runs/s'.padStart(10)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'failed'.padStart(8)}${'vs raw'.padStart(9)}`,
    );
    results.forEach((result, index) => {
      const rate = result.runs / result.seconds;
      console.log(
        `${result.name.padEnd(26)}${(result.requests / result.seconds).toFixed(0).padStart(12)}${rate.toFixed(0).padStart(10)}` +
          `${percentile(result.latenciesMs, 0.5).toFixed(1).padStart(9)}${percentile(result.latenciesMs, 0.95).toFixed(1).padStart(9)}` +
          `${String(result.failures).padStart(8)}${`${((rate / rawRate) * 100).toFixed(0)} %`.padStart(9)}${notes[index] ?? ''}`,
      );
      if (result.firstFailure) console.log(`  first failure: ${result.firstFailure}`);
    });
    const ratio = batched.runs / batched.seconds / rawRate;
    console.log(
      `goal: batches at ≥ 80 % of raw PutItem/s → ${(ratio * 100).toFixed(0)} % ${ratio >= 0.8 ? '(met)' : '(not met)'}`,
    );
  } finally {
    await cleanup();
  }
}
