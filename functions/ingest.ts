/**
 * POST /api/executions: validates runs and stores each one once.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { loadIngestConfig } from './config';
import { planBatch } from './domain/ingest-batch';
import {
  BatchTooLargeError,
  MethodNotAllowedError,
  ServiceUnavailableError,
  ValidationFailedError,
} from './http/errors';
import { type HttpResult, httpErrors, type JsonEvent, jsonBody } from './http/middleware';
import { jsonResponse } from './http/response';
import { putRunIfChanged } from './store/executions-store';
import { RetriesExhaustedError } from './store/retry';
import { toRunItem } from './store/run-item';

const config = loadIngestConfig();
const logger = new Logger({ serviceName: 'fixer-metrics-ingest' });

/** Seconds a client should wait after a 503: long enough for throttling to clear. */
const RETRY_AFTER_SECONDS = 2;

async function ingest(event: JsonEvent): Promise<HttpResult> {
  if (event.requestContext.http.method !== 'POST') {
    throw new MethodNotAllowedError(
      `${event.requestContext.http.method} is not allowed on /api/executions; use POST`,
    );
  }
  logger.appendKeys({ requestId: event.requestContext.requestId });
  const plan = planBatch(event.jsonBody);
  if (plan.kind === 'too_large') throw new BatchTooLargeError(plan.message);
  if (plan.kind === 'invalid_shape') throw new ValidationFailedError(plan.message, plan.rejected);
  if (plan.toStore.length === 0) {
    const first = plan.rejected[0]?.errors[0];
    const message =
      plan.received === 1
        ? `invalid execution: ${first?.message ?? 'invalid'}`
        : `all ${plan.received} executions are invalid; first: item ${plan.rejected[0]?.index}: ${first?.message}`;
    logger.info('ingest rejected', { received: plan.received, rejected: plan.rejected.length });
    throw new ValidationFailedError(message, plan.rejected);
  }

  let outcomes: ('stored' | 'duplicate')[];
  try {
    outcomes = await Promise.all(
      plan.toStore.map(({ record }) =>
        putRunIfChanged(config.EXECUTIONS_TABLE_NAME, toRunItem(record, config.RAW_RETENTION_DAYS)),
      ),
    );
  } catch (error) {
    if (error instanceof RetriesExhaustedError) {
      // Items written before the give-up stay written; a client that retries
      // sees them as duplicates, so the final state is the same either way.
      throw new ServiceUnavailableError(
        `the store is busy (${(error.cause as Error)?.name ?? 'transient error'}); retry after ${RETRY_AFTER_SECONDS} s`,
        RETRY_AFTER_SECONDS,
      );
    }
    throw error;
  }
  const accepted = outcomes.filter((outcome) => outcome === 'stored').length;
  const duplicates = outcomes.length - accepted;
  logger.info('ingested', {
    received: plan.received,
    accepted,
    duplicates,
    superseded: plan.superseded,
    rejected: plan.rejected.length,
  });
  const status = plan.rejected.length > 0 ? 207 : 202;
  return jsonResponse(status, { accepted, duplicates, superseded: plan.superseded, rejected: plan.rejected });
}

export const handler = middy<JsonEvent, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpHeaderNormalizer())
  .use(httpErrors<JsonEvent>(logger))
  .use(jsonBody())
  .handler(ingest);
