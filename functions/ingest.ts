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
import { parseOtlpJsonExport, planTraceRuns } from './domain/otlp-traces';
import { BatchTooLargeError, HttpError, ServiceUnavailableError, ValidationFailedError } from './http/errors';
import {
  allowMethods,
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
import { RetriesExhaustedError, type RetryOptions } from './store/retry';
import { toRunItem } from './store/run-item';

const config = loadIngestConfig();

/** Seconds a client should wait after a 503: long enough for throttling to clear. */
export const RETRY_AFTER_SECONDS = 2;
/** Time kept back from the Lambda timeout to answer 503 instead of being cut off. */
const RESPONSE_RESERVE_MS = 1_000;

export interface IngestOptions {
  /** Retry policy of each write; tests pass a `sleep` that returns at once. */
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
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

  /** Stores each run once; answers 503 (by throwing) when the store gave up on some. */
  async function store(toStore: readonly AcceptedItem[], context: Context, counts: Record<string, number>) {
    const retry = { deadline: deadlineOf(context), ...options.retry };
    // allSettled rather than all: no write of this request is still in flight
    // once it is answered, so a client's retry never races it.
    const results = await Promise.allSettled(
      toStore.map(({ record }) =>
        putRunIfChanged(config.EXECUTIONS_TABLE_NAME, toRunItem(record, config.RAW_RETENTION_DAYS), retry),
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
  async function ingestTraces(event: OtlpEvent, context: Context): Promise<HttpResult> {
    const parsed = parseOtlpJsonExport(event.jsonBody);
    if (!parsed.ok) throw new ValidationFailedError(parsed.message, []);
    const plan = planTraceRuns(parsed.spans, { limits: config.RUN_LIMITS, nowMs: Date.now() });
    const rejected = [...parsed.rejected, ...plan.rejected];
    const counts = { received: parsed.spans.length + parsed.rejected.length, rejected: rejected.length };
    const stored = await store(plan.toStore, context, counts);
    logger.info('ingested traces', { ...counts, ...stored });
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
      .use(httpHeaderNormalizer())
      .use(httpErrors(logger))
      .use(allowMethods(['POST']))
      .use(bodyOfRoute())
      .handler((event, context) => ingest(event as JsonEvent, context))
  );
}

export const handler = createIngestHandler();
