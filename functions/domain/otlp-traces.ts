/**
 * Turns an OTLP/JSON trace export carrying OpenTelemetry GenAI spans into
 * execution records: each `invoke_agent` span becomes one run, summed over the
 * `chat` and `execute_tool` spans under it. Typed spans in, runs out; nothing
 * here knows about HTTP or storage.
 *
 * Attribute names are those of the GenAI semantic conventions, e.g.
 * https://open-telemetry.github.io/opentelemetry-js/variables/_opentelemetry_semantic-conventions.incubating.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS.html
 * (cache reads and writes are included in `gen_ai.usage.input_tokens`).
 */
import { z } from 'zod';
import {
  describeReceived,
  ERROR_MESSAGE_MAX_CHARS,
  type ExecutionInput,
  type FieldError,
  type Plausibility,
  validateExecution,
} from './execution';
import type { AcceptedItem } from './ingest-batch';

export const ATTR = {
  operationName: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheWriteTokens: 'gen_ai.usage.cache_creation.input_tokens',
  errorType: 'error.type',
  /** Not a semantic convention: the fixer agent sets it on its `invoke_agent` span. */
  filesModified: 'fixer.files_modified',
} as const;

/** OTLP status code of a failed span (`STATUS_CODE_ERROR`). */
const STATUS_CODE_ERROR = 2;

/** Spans one export may carry; the body size limit binds first for real exports. */
export const MAX_SPANS_PER_EXPORT = 10_000;

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${length}}$`));
/** OTLP/JSON writes 64-bit integers as decimal strings; numbers are accepted too. */
const uint64 = z.union([z.string().regex(/^\d{1,20}$/), z.int().min(0)]).transform((value) => BigInt(value));

const anyValue = z
  .object({
    stringValue: z.string().optional(),
    intValue: z.union([z.string().regex(/^-?\d{1,20}$/), z.int()]).optional(),
    doubleValue: z.number().optional(),
    boolValue: z.boolean().optional(),
  })
  .loose();

const spanSchema = z
  .object({
    traceId: hex(32),
    spanId: hex(16),
    parentSpanId: z.union([hex(16), z.literal('')]).optional(),
    name: z.string().optional(),
    startTimeUnixNano: uint64,
    endTimeUnixNano: uint64,
    attributes: z.array(z.object({ key: z.string(), value: anyValue.optional() }).loose()).optional(),
    status: z.object({ code: z.int().optional(), message: z.string().optional() }).loose().optional(),
  })
  .loose();

const exportSchema = z
  .object({
    resourceSpans: z
      .array(
        z
          .object({
            scopeSpans: z.array(z.object({ spans: z.array(z.unknown()).optional() }).loose()).optional(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();

/** One span as this module reads it: ids lower-cased, times in nanoseconds, attributes flattened. */
export interface GenAiSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: ReadonlyMap<string, string | number | boolean>;
  readonly failed: boolean;
  readonly statusMessage: string | undefined;
}

export interface RejectedSpan {
  /** `resourceSpans.0.scopeSpans.1.spans.2` for a span that could not be read, else the span's ids. */
  readonly span: string;
  readonly errors: FieldError[];
  /** An agent span that names no model and has no chat span naming one (yet). */
  readonly noModelYet?: boolean;
}

export type ParsedExport =
  | { readonly ok: false; readonly message: string }
  | { readonly ok: true; readonly spans: GenAiSpan[]; readonly rejected: RejectedSpan[] };

function flattenAttributes(
  attributes: z.infer<typeof spanSchema>['attributes'],
): Map<string, string | number | boolean> {
  const flat = new Map<string, string | number | boolean>();
  for (const { key, value } of attributes ?? []) {
    if (value === undefined) continue;
    if (value.stringValue !== undefined) flat.set(key, value.stringValue);
    else if (value.intValue !== undefined) flat.set(key, Number(value.intValue));
    else if (value.doubleValue !== undefined) flat.set(key, value.doubleValue);
    else if (value.boolValue !== undefined) flat.set(key, value.boolValue);
  }
  return flat;
}

/**
 * Reads an OTLP/JSON `ExportTraceServiceRequest`. A body that is not one
 * (wrong shape, too many spans) is refused whole; a span that cannot be read
 * is rejected on its own, named by its position.
 */
export function parseOtlpJsonExport(body: unknown): ParsedExport {
  const parsed = exportSchema.safeParse(body);
  if (!parsed.success || typeof body !== 'object' || body === null || Array.isArray(body)) {
    const issue = parsed.success ? undefined : parsed.error.issues[0];
    const path = issue?.path.map(String).join('.') ?? '';
    return {
      ok: false,
      message: `an OTLP trace export must be {"resourceSpans": [{"scopeSpans": [{"spans": [...]}]}]}${
        path === '' ? `, got ${describeReceived(body)}` : `; ${path}: ${issue?.message}`
      }`,
    };
  }
  const spans: GenAiSpan[] = [];
  const rejected: RejectedSpan[] = [];
  let total = 0;
  for (const [r, resource] of (parsed.data.resourceSpans ?? []).entries()) {
    for (const [s, scope] of (resource.scopeSpans ?? []).entries()) {
      total += scope.spans?.length ?? 0;
      if (total > MAX_SPANS_PER_EXPORT) {
        return { ok: false, message: `at most ${MAX_SPANS_PER_EXPORT} spans per export, got more` };
      }
      for (const [i, raw] of (scope.spans ?? []).entries()) {
        const where = `resourceSpans.${r}.scopeSpans.${s}.spans.${i}`;
        const span = spanSchema.safeParse(raw);
        if (!span.success) {
          rejected.push({
            span: where,
            errors: span.error.issues.slice(0, 5).map((issue) => ({
              path: [where, ...issue.path.map(String)].join('.'),
              message: `${issue.path.map(String).join('.') || 'span'}: ${issue.message}`,
            })),
          });
          continue;
        }
        const { traceId, spanId, parentSpanId, startTimeUnixNano, endTimeUnixNano, attributes, status } =
          span.data;
        spans.push({
          traceId: traceId.toLowerCase(),
          spanId: spanId.toLowerCase(),
          parentSpanId: parentSpanId ? parentSpanId.toLowerCase() : undefined,
          startTimeUnixNano,
          endTimeUnixNano,
          attributes: flattenAttributes(attributes),
          failed: status?.code === STATUS_CODE_ERROR,
          statusMessage: status?.message || undefined,
        });
      }
    }
  }
  return { ok: true, spans, rejected };
}

/** An instant in nanoseconds since the epoch as RFC 3339 with nanosecond precision. */
export function nanosToInstant(nanos: bigint): string {
  const millis = nanos / 1_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(millis)).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** The run id of an agent span: stable across re-sends of the same span. */
export function executionIdOf(span: Pick<GenAiSpan, 'traceId' | 'spanId'>): string {
  return `${span.traceId}:${span.spanId}`;
}

const operationOf = (span: GenAiSpan) => span.attributes.get(ATTR.operationName);

const GEN_AI_OPERATIONS = new Set<unknown>(['invoke_agent', 'chat', 'execute_tool']);
/** An agent, chat or tool span: what a run is made of. */
export const isGenAiSpan = (span: GenAiSpan) => GEN_AI_OPERATIONS.has(operationOf(span));
const key = (traceId: string, spanId: string) => `${traceId}:${spanId}`;

function tokens(span: GenAiSpan, name: string): number {
  const value = span.attributes.get(name);
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

function text(span: GenAiSpan, name: string): string | undefined {
  const value = span.attributes.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The agent span each span belongs to: the nearest `invoke_agent` ancestor,
 * so a sub-agent's calls count for the sub-agent's run only. Ancestors must
 * be in `byKey`; a cycle or a missing link means no owner.
 */
function ownerOf(span: GenAiSpan, byKey: ReadonlyMap<string, GenAiSpan>): string | undefined {
  let parentId = span.parentSpanId;
  for (let hops = 0; parentId !== undefined && hops <= byKey.size; hops++) {
    const parent = byKey.get(key(span.traceId, parentId));
    if (parent === undefined) return undefined;
    if (operationOf(parent) === 'invoke_agent') return key(parent.traceId, parent.spanId);
    parentId = parent.parentSpanId;
  }
  return undefined;
}

/** The model used most often among `models`; ties go to the first seen. */
function mostUsed(models: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const model of models) counts.set(model, (counts.get(model) ?? 0) + 1);
  let best: string | undefined;
  for (const [model, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = model;
  return best;
}

/** What one agent span and the spans under it say about the run, before validation. */
function runOf(agent: GenAiSpan, children: readonly GenAiSpan[]): ExecutionInput {
  const chats = children.filter((span) => operationOf(span) === 'chat');
  const tools = children.filter((span) => operationOf(span) === 'execute_tool');
  let input = 0;
  let output = 0;
  let cacheRead = 0;
  let cacheWrite = 0;
  for (const chat of chats) {
    const read = tokens(chat, ATTR.cacheReadTokens);
    const write = tokens(chat, ATTR.cacheWriteTokens);
    // gen_ai.usage.input_tokens includes cached tokens; ours do not.
    input += Math.max(0, tokens(chat, ATTR.inputTokens) - read - write);
    output += tokens(chat, ATTR.outputTokens);
    cacheRead += read;
    cacheWrite += write;
  }
  const model =
    text(agent, ATTR.responseModel) ??
    text(agent, ATTR.requestModel) ??
    mostUsed(
      chats.flatMap((chat) => {
        const name = text(chat, ATTR.responseModel) ?? text(chat, ATTR.requestModel);
        return name === undefined ? [] : [name];
      }),
    );
  const errorType = text(agent, ATTR.errorType);
  return {
    executionId: executionIdOf(agent),
    startTime: nanosToInstant(agent.startTimeUnixNano),
    endTime: nanosToInstant(agent.endTimeUnixNano),
    status: agent.failed ? 'failure' : 'success',
    // An empty model is rejected by the schema with a message naming `model`.
    model: model ?? '',
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    costUsd: null,
    llmCalls: chats.length,
    toolCalls: tools.length,
    filesModified: tokens(agent, ATTR.filesModified),
    ...(agent.failed && errorType !== undefined ? { errorType } : {}),
    ...(agent.failed && agent.statusMessage !== undefined ? { errorMessage: agent.statusMessage } : {}),
  };
}

export interface TracePlan {
  /** One validated run per `invoke_agent` span, in the order the spans came. */
  readonly toStore: AcceptedItem[];
  /** Agent spans whose run is invalid, and spans that could not be read. */
  readonly rejected: RejectedSpan[];
}

/**
 * Computes the runs of the agent spans in `spans`. Chat and tool spans count
 * for the agent span above them when it is among `spans`; the others are
 * neither runs nor errors.
 */
export function planTraceRuns(spans: readonly GenAiSpan[], plausibility?: Plausibility): TracePlan {
  const byKey = new Map(spans.map((span) => [key(span.traceId, span.spanId), span]));
  const children = new Map<string, GenAiSpan[]>();
  for (const span of spans) {
    const operation = operationOf(span);
    if (operation !== 'chat' && operation !== 'execute_tool') continue;
    const owner = ownerOf(span, byKey);
    if (owner === undefined) continue;
    const list = children.get(owner) ?? [];
    list.push(span);
    children.set(owner, list);
  }
  const toStore: AcceptedItem[] = [];
  const rejected: RejectedSpan[] = [];
  // byKey holds the last copy of a span sent twice, so each agent span gives one run.
  for (const [index, span] of [...byKey.values()].entries()) {
    if (operationOf(span) !== 'invoke_agent') continue;
    const run = runOf(span, children.get(key(span.traceId, span.spanId)) ?? []);
    const result = validateExecution(run, plausibility);
    if (result.ok) toStore.push({ index, record: result.record });
    else
      rejected.push({
        span: executionIdOf(span),
        errors: result.errors,
        ...(run.model === '' ? { noModelYet: true } : {}),
      });
  }
  return { toStore, rejected };
}

/**
 * The spans of one trace as they wait for the rest of it (see
 * docs/API.md, "A trace over several exports"): what `planTraceRuns` reads of
 * each span and nothing more. Attributes a run is not made from are dropped;
 * a span with none left still links its children to their agent span.
 */
type StoredSpan = [
  spanId: string,
  parentSpanId: string,
  start: string,
  end: string,
  attributes: [string, string | number | boolean][],
  failed: 0 | 1,
  statusMessage: string,
];

const RUN_ATTRIBUTES = new Set<string>(Object.values(ATTR));

/**
 * Longest attribute text kept while spans wait: longer than any valid model
 * or error type, so a run made from the kept spans is refused just the same.
 */
const MAX_STORED_TEXT = 1_000;

/** At most this many spans of one trace are kept waiting: the trace's item stays under DynamoDB's 400 KB. */
export const MAX_SPANS_PER_TRACE = 1_000;

/** One trace's spans as a string to store. */
export function serializeTraceSpans(spans: readonly GenAiSpan[]): string {
  return JSON.stringify(
    spans.map(
      (span): StoredSpan => [
        span.spanId,
        span.parentSpanId ?? '',
        String(span.startTimeUnixNano),
        String(span.endTimeUnixNano),
        [...span.attributes]
          .filter(([name]) => RUN_ATTRIBUTES.has(name))
          .map(([name, value]) => [
            name,
            typeof value === 'string' ? value.slice(0, MAX_STORED_TEXT) : value,
          ]),
        span.failed ? 1 : 0,
        // The run keeps the first ERROR_MESSAGE_MAX_CHARS code points; so does the stored span.
        span.failed ? [...(span.statusMessage ?? '')].slice(0, ERROR_MESSAGE_MAX_CHARS).join('') : '',
      ],
    ),
  );
}

/** The spans `serializeTraceSpans` stored for `traceId`. */
export function deserializeTraceSpans(traceId: string, text: string): GenAiSpan[] {
  return (JSON.parse(text) as StoredSpan[]).map(
    ([spanId, parent, start, end, attributes, failed, message]) => ({
      traceId,
      spanId,
      parentSpanId: parent === '' ? undefined : parent,
      startTimeUnixNano: BigInt(start),
      endTimeUnixNano: BigInt(end),
      attributes: new Map(attributes),
      failed: failed === 1,
      statusMessage: message === '' ? undefined : message,
    }),
  );
}

/** The spans of `stored` and `arrived` by span id; a span sent again replaces its earlier copy. */
export function mergeTraceSpans(stored: readonly GenAiSpan[], arrived: readonly GenAiSpan[]): GenAiSpan[] {
  const bySpanId = new Map(stored.map((span) => [span.spanId, span]));
  for (const span of arrived) bySpanId.set(span.spanId, span);
  return [...bySpanId.values()];
}

/** The spans of an export grouped by trace id, in the order the traces came. */
export function spansByTrace(spans: readonly GenAiSpan[]): Map<string, GenAiSpan[]> {
  const traces = new Map<string, GenAiSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.traceId) ?? [];
    list.push(span);
    traces.set(span.traceId, list);
  }
  return traces;
}
