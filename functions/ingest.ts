/**
 * POST /api/executions: validates runs and stores each one once.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { loadIngestConfig } from './config';
import { type AcceptedItem, planBatch } from './domain/ingest-batch';
import { encodeOtlpProtobufResponse } from './domain/otlp-protobuf';
import {
  ATTR,
  executionIdOf,
  type GenAiSpan,
  isGenAiSpan,
  parseOtlpJsonExport,
  planTraceRuns,
  type RejectedSpan,
  spansByTrace,
} from './domain/otlp-traces';
import { BatchTooLargeError, HttpError, ServiceUnavailableError, ValidationFailedError } from './http/errors';
import {
  allowMethods,
  countServerErrors,
  type HttpEvent,
  type HttpResult,
  httpErrors,
  type JsonEvent,
  jsonBody,
} from './http/middleware';
import { type OtlpEvent, otlpBody } from './http/otlp-body';
import { jsonResponse, protobufResponse } from './http/response';
import { TRACES_PATH } from './http/routes';
import { type PutOutcome, putRunIfChanged } from './store/executions-store';
import { type EmfSink, MetricsEmitter } from './store/metrics-emitter';
import { RetriesExhaustedError, type RetryOptions } from './store/retry';
import { toRunItem } from './store/run-item';
import {
  addTraceSpans,
  readTraceSpans,
  TraceContendedError,
  type TraceSpans,
  TraceTooLargeError,
} from './store/trace-spans-store';

const config = loadIngestConfig();

/** Seconds a client should wait after a 503: long enough for throttling to clear. */
export const RETRY_AFTER_SECONDS = 2;
/** Time kept back from the Lambda timeout to answer 503 instead of being cut off. */
const RESPONSE_RESERVE_MS = 1_000;

export interface IngestOptions {
  /** Retry policy of each write; tests pass a `sleep` that returns at once. */
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
  /** Where EMF metric documents go. @default stdout (see metrics-emitter.ts) */
  readonly emfSink?: EmfSink;
}

/** Adds the request id to every log line and logs each request's outcome once, without its payload. */
function requestLog(logger: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: async (request) => {
      logger.appendKeys({ requestId: request.event.requestContext?.requestId });
    },
    onError: async (request) => {
      // Runs after httpErrors (middy unwinds onError in reverse), so the response is set.
      const error = request.error;
      const rejected =
        error instanceof ValidationFailedError ? (error.details.rejected as unknown[]).length : undefined;
      logger.info('ingest refused', {
        status: request.response?.statusCode,
        error: error instanceof HttpError ? error.code : 'internal_error',
        ...(rejected === undefined ? {} : { accepted: 0, duplicates: 0, rejected }),
      });
    },
  };
}

/** OTLP exports (JSON or protobuf, maybe gzip) on /v1/traces; JSON runs everywhere else. */
function bodyOfRoute(): MiddlewareObj<HttpEvent, HttpResult> {
  const otlp = otlpBody().before as NonNullable<MiddlewareObj<HttpEvent, HttpResult>['before']>;
  const json = jsonBody<HttpEvent>().before as NonNullable<MiddlewareObj<HttpEvent, HttpResult>['before']>;
  return { before: (request) => (request.event.rawPath === TRACES_PATH ? otlp(request) : json(request)) };
}

/** When this request must have its answer ready: before the Lambda is cut off. */
function deadlineOf(context: Context | undefined): number | undefined {
  const remainingMs = context?.getRemainingTimeInMillis?.();
  return typeof remainingMs === 'number' && Number.isFinite(remainingMs)
    ? Date.now() + Math.max(0, remainingMs - RESPONSE_RESERVE_MS)
    : undefined;
}

/** Builds the handler; `handler` below is the one Lambda runs. */
export function createIngestHandler(options: IngestOptions = {}) {
  const logger = options.logger ?? new Logger({ serviceName: 'fixer-metrics-ingest' });
  const metrics = new MetricsEmitter({
    namespace: config.METRICS_NAMESPACE,
    stage: config.STAGE,
    logger,
    ...(options.emfSink ? { sink: options.emfSink } : {}),
  });

  /** Stores each run once; answers 503 (by throwing) when the store gave up on some. */
  async function store(toStore: readonly AcceptedItem[], context: Context, counts: Record<string, number>) {
    const retry = { deadline: deadlineOf(context), ...options.retry };
    // allSettled rather than all: no write of this request is still in flight
    // once it is answered, so a client's retry never races it.
    const results = await Promise.allSettled(
      toStore.map(({ record }) =>
        putRunIfChanged(
          config.EXECUTIONS_TABLE_NAME,
          toRunItem(record, config.RAW_RETENTION_DAYS, Date.now(), config.MODEL_PRICES),
          retry,
        ),
      ),
    );
    const outcomes = results.flatMap((result): PutOutcome[] =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    const accepted = outcomes.filter((outcome) => outcome === 'stored').length;
    const duplicates = outcomes.length - accepted;

    const unexpected = failures.find((failure) => !(failure instanceof RetriesExhaustedError));
    if (unexpected !== undefined) throw unexpected;
    const exhausted = failures[0] as RetriesExhaustedError | undefined;
    if (exhausted) {
      logger.warn('ingest gave up on the store', {
        ...counts,
        accepted,
        duplicates,
        unstored: failures.length,
      });
      // What was written stays written; re-sending the request stores the rest
      // and reports the written ones as duplicates, so nothing is lost.
      throw new ServiceUnavailableError(
        `the store is busy (${(exhausted.cause as Error | undefined)?.name ?? 'timeout'}); ` +
          `${failures.length} of ${toStore.length} executions were not stored; ` +
          `re-send the request after ${RETRY_AFTER_SECONDS} s`,
        RETRY_AFTER_SECONDS,
      );
    }
    return { accepted, duplicates };
  }

  /** POST /v1/traces: each invoke_agent span of an OTLP/JSON export becomes a run. */
  /**
   * Adds one trace's arrived spans to those stored for it, then stores the
   * run of every agent span of the trace that the merged spans change: a
   * new agent span is a new run; children arriving after it are a
   * correction of its run, through the same conditional write as a re-sent
   * run. If another request added spans to the trace meanwhile, the runs are
   * computed again from the newer spans, so the last write is the whole trace.
   */
  async function ingestTrace(traceId: string, arrived: GenAiSpan[], context: Context, nowMs: number) {
    const retry = { deadline: deadlineOf(context), ...options.retry };
    const plausibility = { limits: config.RUN_LIMITS, nowMs };
    const arrivedAgents = new Set(
      arrived.filter((span) => span.attributes.get(ATTR.operationName) === 'invoke_agent').map(executionIdOf),
    );
    const totals = { accepted: 0, duplicates: 0 };
    // A trace with no GenAI span so far (an app's other spans) is not kept. A
    // span linking a chat span to its agent span ends after the chat span, so
    // it arrives when the trace is already kept.
    if (!arrived.some(isGenAiSpan)) {
      const stored = await readTraceSpans(config.EXECUTIONS_TABLE_NAME, traceId, retry);
      if (stored.version === 0) return { ...totals, rejected: [] };
    }
    let trace: TraceSpans;
    try {
      trace = await addTraceSpans(config.EXECUTIONS_TABLE_NAME, traceId, arrived, nowMs, retry);
    } catch (error) {
      if (error instanceof TraceContendedError) {
        throw new ServiceUnavailableError(
          `${error.message}; re-send the export after ${RETRY_AFTER_SECONDS} s`,
          RETRY_AFTER_SECONDS,
        );
      }
      if (!(error instanceof TraceTooLargeError)) throw error;
      // Too large to keep waiting: its runs come from this export's spans alone.
      logger.warn('trace too large to keep', { traceId, spans: arrived.length });
      trace = { spans: arrived, version: -1 };
    }
    let rejected: RejectedSpan[] = [];
    for (let round = 0; round < 3; round++) {
      const plan = planTraceRuns(trace.spans, plausibility);
      // Rejections are reported to the export that sent the agent span, not to later ones;
      // an agent span whose only fault is no model yet waits for a chat span to name it.
      rejected = plan.rejected.filter(
        (entry) => arrivedAgents.has(entry.span) && !(trace.version > 0 && entry.noModelYet === true),
      );
      const stored = await store(plan.toStore, context, {
        received: arrived.length,
        rejected: rejected.length,
      });
      totals.accepted += stored.accepted;
      totals.duplicates += stored.duplicates;
      if (trace.version < 0) break;
      const latest = await readTraceSpans(config.EXECUTIONS_TABLE_NAME, traceId, retry);
      if (latest.version === trace.version) break;
      trace = latest;
    }
    return { ...totals, rejected };
  }

  /** POST /v1/traces: each invoke_agent span of an OTLP export becomes a run. */
  async function ingestTraces(event: OtlpEvent, context: Context): Promise<HttpResult> {
    const parsed = parseOtlpJsonExport(event.jsonBody);
    if (!parsed.ok) throw new ValidationFailedError(parsed.message, []);
    const nowMs = Date.now();
    const traces = [...spansByTrace(parsed.spans)];
    const results = await Promise.allSettled(
      traces.map(([traceId, arrived]) => ingestTrace(traceId, arrived, context, nowMs)),
    );
    const rejected: RejectedSpan[] = [...parsed.rejected];
    const stored = { accepted: 0, duplicates: 0 };
    for (const result of results) {
      // A store that gave up is a 503 for the whole export: the exporter retries it, and what was written is a duplicate then.
      if (result.status === 'rejected') throw result.reason;
      rejected.push(...result.value.rejected);
      stored.accepted += result.value.accepted;
      stored.duplicates += result.value.duplicates;
    }
    const counts = { received: parsed.spans.length + parsed.rejected.length, rejected: rejected.length };
    logger.info('ingested traces', { ...counts, traces: traces.length, ...stored });
    const first = rejected[0];
    // The OTLP/HTTP answer: 200, with partialSuccess only when some spans could not become runs,
    // in the encoding of the request.
    const partialSuccess =
      first === undefined
        ? undefined
        : {
            rejectedSpans: rejected.length,
            errorMessage: `${rejected.length} spans could not become runs; first, ${first.span}: ${first.errors[0]?.path} ${first.errors[0]?.message}`,
          };
    if (event.otlpEncoding === 'protobuf')
      return protobufResponse(200, encodeOtlpProtobufResponse(partialSuccess));
    return jsonResponse(
      200,
      partialSuccess === undefined
        ? {}
        : { partialSuccess: { ...partialSuccess, rejectedSpans: String(rejected.length) } },
    );
  }

  async function ingest(event: JsonEvent, context: Context): Promise<HttpResult> {
    if (event.rawPath === TRACES_PATH) return ingestTraces(event as OtlpEvent, context);
    const plan = planBatch(event.jsonBody, { limits: config.RUN_LIMITS, nowMs: Date.now() });
    if (plan.kind === 'too_large') throw new BatchTooLargeError(plan.message);
    if (plan.kind === 'invalid_shape') throw new ValidationFailedError(plan.message, plan.rejected);
    if (plan.toStore.length === 0) {
      const first = plan.rejected[0];
      const message =
        plan.received === 1
          ? `invalid execution: ${first?.errors[0]?.message}`
          : `all ${plan.received} executions are invalid; first, item ${first?.index}: ${first?.errors[0]?.message}`;
      throw new ValidationFailedError(message, plan.rejected);
    }

    const counts = {
      received: plan.received,
      superseded: plan.superseded,
      rejected: plan.rejected.length,
    };
    const { accepted, duplicates } = await store(plan.toStore, context, counts);

    logger.info('ingested', { ...counts, accepted, duplicates });
    const status = plan.rejected.length > 0 ? 207 : 202;
    return jsonResponse(status, {
      accepted,
      duplicates,
      superseded: plan.superseded,
      rejected: plan.rejected,
    });
  }

  return (
    middy<HttpEvent, HttpResult>()
      // logEvent: false whatever POWERTOOLS_LOGGER_LOG_EVENT says: the payload is never logged.
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(requestLog(logger))
      .use(countServerErrors(metrics, 'ingest'))
      .use(httpHeaderNormalizer())
      .use(httpErrors(logger))
      .use(allowMethods(['POST']))
      .use(bodyOfRoute())
      .handler((event, context) => ingest(event as JsonEvent, context))
  );
}

export const handler = createIngestHandler();
