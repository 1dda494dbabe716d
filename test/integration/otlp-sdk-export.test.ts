/**
 * A real OpenTelemetry SDK (`@opentelemetry/sdk-trace` with the OTLP HTTP
 * exporters from npm) exports GenAI spans to `npm start`'s runtime, and the
 * runs it then serves are exactly the ones the spans describe.
 */
import { readFileSync } from 'node:fs';
import { type Context, context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  type IdGenerator,
  SimpleSpanProcessor,
  type SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, startRuntime } from '../support/runtime-harness';

let runtime: RuntimeProcess;

/** The exporter's `CompressionAlgorithm.GZIP` (an enum of otlp-exporter-base, whose value is the header's). */
const GZIP = 'gzip' as NonNullable<
  NonNullable<ConstructorParameters<typeof ProtobufExporter>[0]>['compression']
>;

beforeAll(async () => {
  runtime = await startRuntime();
}, 150_000);
afterAll(async () => {
  await runtime?.stop();
});

/** Ids in the order the SDK asks for them, so that executionIds are known in advance. */
function fixedIds(traceIds: string[], spanIds: string[]): IdGenerator {
  return {
    generateTraceId: () => traceIds.shift() ?? 'ffffffffffffffffffffffffffffffff',
    generateSpanId: () => spanIds.shift() ?? 'ffffffffffffffff',
  };
}

/** Each export test writes its runs on a day of its own, with trace ids of its own. */
interface Scenario {
  readonly day: string;
  readonly traceA: string;
  readonly traceB: string;
}

/**
 * One agent run the way an instrumented agent records it: an `invoke_agent`
 * span with two `chat` calls and one `execute_tool` call under it, and a
 * failed second run on another model with one chat call.
 */
function recordAgentRuns(provider: TracerProvider, { day }: Scenario): void {
  const at = (time: string) => new Date(`${day}T${time}Z`);
  const tracer = provider.getTracer('fixer-agent', '1.0.0');
  const under = (parent: ReturnType<typeof tracer.startSpan>): Context =>
    trace.setSpan(context.active(), parent);

  const agent = tracer.startSpan('invoke_agent fixer', {
    startTime: at('10:00:00'),
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'fixer',
      'gen_ai.request.model': 'claude-sonnet-4',
      'fixer.files_modified': 2,
    },
  });
  const chat1 = tracer.startSpan(
    'chat claude-sonnet-4',
    {
      startTime: at('10:00:01'),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'claude-sonnet-4',
        'gen_ai.usage.input_tokens': 1500,
        'gen_ai.usage.cache_read.input_tokens': 1000,
        'gen_ai.usage.cache_creation.input_tokens': 200,
        'gen_ai.usage.output_tokens': 120,
      },
    },
    under(agent),
  );
  chat1.end(at('10:00:05'));
  const tool = tracer.startSpan(
    'execute_tool edit_file',
    { startTime: at('10:00:06'), attributes: { 'gen_ai.operation.name': 'execute_tool' } },
    under(agent),
  );
  tool.end(at('10:00:07'));
  const chat2 = tracer.startSpan(
    'chat claude-sonnet-4',
    {
      startTime: at('10:00:08'),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'claude-sonnet-4',
        'gen_ai.usage.input_tokens': 700,
        'gen_ai.usage.output_tokens': 80,
      },
    },
    under(agent),
  );
  chat2.end(at('10:00:12'));
  agent.end(at('10:01:00'));

  const failed = tracer.startSpan('invoke_agent fixer', {
    startTime: at('11:00:00'),
    attributes: { 'gen_ai.operation.name': 'invoke_agent' },
  });
  const chat3 = tracer.startSpan(
    'chat gpt-5',
    {
      startTime: at('11:00:01'),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.response.model': 'gpt-5',
        'gen_ai.usage.input_tokens': 300,
        'gen_ai.usage.output_tokens': 30,
      },
    },
    under(failed),
  );
  chat3.end(at('11:00:02'));
  failed.setAttribute('error.type', 'RateLimited');
  failed.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream answered 429 three times' });
  failed.end(at('11:00:30'));
}

const AGENT_A = 'b7ad6b7169203331';
const AGENT_B = '00f067aa0ba902b7';

/** What the spans above must become, as GET /api/runs serves them (newest first). */
const expectedRuns = ({ day: DAY, traceA: TRACE_A, traceB: TRACE_B }: Scenario) => [
  {
    executionId: `${TRACE_B}:${AGENT_B}`,
    startTime: `${DAY}T11:00:00.000000000Z`,
    endTime: `${DAY}T11:00:30.000000000Z`,
    status: 'failure',
    model: 'gpt-5',
    inputTokens: 300,
    outputTokens: 30,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: null,
    // From config/model-prices.json: 300 × $1.25 + 30 × $10 per million tokens.
    estimatedCostUsd: 0.000675,
    llmCalls: 1,
    toolCalls: 0,
    filesModified: 0,
    durationMs: 30_000,
    errorType: 'RateLimited',
    errorMessage: 'upstream answered 429 three times',
  },
  {
    executionId: `${TRACE_A}:${AGENT_A}`,
    startTime: `${DAY}T10:00:00.000000000Z`,
    endTime: `${DAY}T10:01:00.000000000Z`,
    status: 'success',
    model: 'claude-sonnet-4',
    // (1500 − 1000 − 200) + 700: OpenTelemetry's input tokens include cached ones.
    inputTokens: 1000,
    outputTokens: 200,
    cacheReadTokens: 1000,
    cacheWriteTokens: 200,
    costUsd: null,
    // 1000 × $3 + 200 × $15 + 1000 × $0.30 + 200 × $3.75 per million tokens.
    estimatedCostUsd: 0.00705,
    llmCalls: 2,
    toolCalls: 1,
    filesModified: 2,
    durationMs: 60_000,
  },
];

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${runtime.baseUrl}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls (bounded) until `ready` holds: the stream aggregates shortly after the write. */
async function eventually<T>(read: () => Promise<T>, ready: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let attempt = 0; attempt < 200 && !ready(value); attempt++) {
    await new Promise((done) => setTimeout(done, 100));
    value = await read();
  }
  return value;
}

/** Records the runs with the SDK, exports them through `exporter`, and checks what the API then serves. */
async function exportAndCheck(scenario: Scenario, exporter: SpanExporter, batch: boolean): Promise<void> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fixer-agent' }),
    idGenerator: fixedIds(
      [scenario.traceA, scenario.traceB],
      [AGENT_A, 'a000000000000001', 'a000000000000002', 'a000000000000003', AGENT_B, 'b000000000000001'],
    ),
    spanProcessors: [batch ? new BatchSpanProcessor({ exporter }) : new SimpleSpanProcessor({ exporter })],
  });
  recordAgentRuns(provider, scenario);
  await provider.forceFlush();
  await provider.shutdown();

  const { day } = scenario;
  const runs = await eventually(
    () => getJson(`/api/runs?from=${day}&to=${day}`),
    ({ body }) => (body.runs as unknown[] | undefined)?.length === 2,
  );
  expect(runs.status).toBe(200);
  // The whole day was searched: no cursor, and searchedTo is the range's start.
  expect(runs.body).toEqual({
    runs: expectedRuns(scenario),
    nextCursor: null,
    searchedTo: `${day}T00:00:00.000Z`,
  });

  const expectedSummary = {
    executions: 2,
    successes: 1,
    failures: 1,
    successRate: 0.5,
    // Neither run reports a cost; both models are in config/model-prices.json: gpt-5 300 input and
    // 30 output tokens at $1.25 and $10 per million, claude-sonnet-4 1000 input, 200 output, 1000
    // cache-read and 200 cache-write tokens at $3, $15, $0.30 and $3.75: $0.000675 + $0.00705.
    cost: {
      totalUsd: 0.007725,
      reportedUsd: 0,
      estimatedUsd: 0.007725,
      runsWithEstimatedCost: 2,
      runsWithUnknownCost: 0,
    },
    tokens: { input: 1300, output: 230, cacheRead: 1000, cacheWrite: 200, total: 2730 },
    llmCalls: { total: 3, perRun: 1.5 },
    toolCalls: { total: 1, perRun: 0.5 },
    filesModified: { total: 2, perSuccessfulRun: 2 },
    durationMs: { avg: 45_000 },
  };
  // Exports may reach the API out of order, so a run can be stored first without a child and corrected
  // later; the stream applies the correction after the first version. Wait for the corrected figures
  // (the wait ends at 20 s, and the assertion below then shows what was served).
  const summary = await eventually(
    () => getJson(`/api/summary?from=${day}&to=${day}`),
    ({ body }) => isDeepMatch(body, expectedSummary),
  );
  expect(summary.body).toMatchObject(expectedSummary);
}

/** Whether `actual` holds every field of `expected` with the same value, as toMatchObject checks. */
function isDeepMatch(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null) return Object.is(actual, expected);
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([key, value]) =>
    isDeepMatch((actual as Record<string, unknown>)[key], value),
  );
}

describe('an OpenTelemetry SDK exporting GenAI spans to the local runtime', () => {
  it('exports over OTLP/HTTP JSON and the runs are served exactly', async () => {
    const exporter = new JsonExporter({ url: `${runtime.baseUrl}/v1/traces` });
    await exportAndCheck(
      {
        day: '2026-11-20',
        traceA: '0af7651916cd43dd8448eb211c80319c',
        traceB: '4bf92f3577b34da6a3ce929d0e0e4736',
      },
      exporter,
      true,
    );
  });

  it('exports over OTLP/HTTP protobuf, gzip-compressed, and the runs are served exactly', async () => {
    const exporter = new ProtobufExporter({ url: `${runtime.baseUrl}/v1/traces`, compression: GZIP });
    await exportAndCheck(
      {
        day: '2026-11-21',
        traceA: '1af7651916cd43dd8448eb211c80319c',
        traceB: '5bf92f3577b34da6a3ce929d0e0e4736',
      },
      exporter,
      true,
    );
  });

  it('exports each span on its own as it ends (children before their parent) and the runs are served exactly', async () => {
    // SimpleSpanProcessor sends one export per ended span: 8 exports, each agent span after its children.
    const exporter = new JsonExporter({ url: `${runtime.baseUrl}/v1/traces` });
    await exportAndCheck(
      {
        day: '2026-11-22',
        traceA: '2af7651916cd43dd8448eb211c80319c',
        traceB: '6bf92f3577b34da6a3ce929d0e0e4736',
      },
      exporter,
      false,
    );
  });

  it('counts a trace split over 3 exports, agent spans first, once: runs and summary exactly', async () => {
    const golden = JSON.parse(
      readFileSync(new URL('../unit/domain/fixtures/otlp-agent-trace.json', import.meta.url), 'utf8'),
    );
    const spans: unknown[] = golden.resourceSpans[0].scopeSpans[0].spans;
    for (const indexes of [
      [0, 5],
      [1, 6],
      [2, 3, 4],
    ]) {
      const response = await fetch(`${runtime.baseUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [{ scopeSpans: [{ spans: indexes.map((index) => spans[index]) }] }],
        }),
      });
      expect([response.status, await response.json()]).toEqual([200, {}]);
    }
    const day = '2026-11-01';
    const summary = await eventually(
      () => getJson(`/api/summary?from=${day}&to=${day}`),
      ({ body }) => (body.tokens as { total?: number } | undefined)?.total === 4560,
    );
    expect(summary.body).toMatchObject({
      executions: 2,
      successes: 1,
      failures: 1,
      tokens: { input: 2500, output: 860, cacheRead: 1100, cacheWrite: 100, total: 4560 },
      llmCalls: { total: 4 },
      toolCalls: { total: 1 },
      filesModified: { total: 3 },
    });
    const runs = await getJson(`/api/runs?from=${day}&to=${day}`);
    expect(runs.body.runs).toMatchObject([
      { executionId: '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b179', inputTokens: 100, llmCalls: 1 },
      {
        executionId: '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174',
        inputTokens: 2400,
        outputTokens: 820,
        llmCalls: 3,
        toolCalls: 1,
      },
    ]);
  });
});
