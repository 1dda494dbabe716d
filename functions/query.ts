/**
 * GET /api/*: read endpoints served from the Aggregates table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { loadQueryConfig } from './config';
import { toFieldErrors } from './domain/execution';
import {
  type CommonQuery,
  commonQuerySchema,
  hourBucketsOf,
  type ResolvedRange,
  resolveRange,
} from './domain/query-range';
import { combine } from './domain/rates';
import { summaryBody } from './domain/summary';
import { InvalidQueryError, MethodNotAllowedError, NotFoundError } from './http/errors';
import { type HttpEvent, type HttpResult, httpErrors } from './http/middleware';
import { jsonResponse } from './http/response';
import type { RunStatus } from './store/aggregate-keys';
import { emptyCounters, listModels, ReadMeter, readCounterBuckets } from './store/aggregates-reader';

const config = loadQueryConfig();
const logger = new Logger({ serviceName: 'fixer-metrics-query' });

function parseCommonQuery(event: HttpEvent): { query: CommonQuery; range: ResolvedRange } {
  const parsed = commonQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) throw new InvalidQueryError(toFieldErrors(parsed.error.issues));
  const range = resolveRange(parsed.data, Date.now());
  if (Array.isArray(range)) throw new InvalidQueryError(range);
  return { query: parsed.data, range };
}

async function totalsOver(query: CommonQuery, range: ResolvedRange, meter: ReadMeter) {
  const registered = await listModels(config.AGGREGATES_TABLE_NAME, meter);
  const models = query.model.length > 0 ? query.model : registered;
  const statuses: RunStatus[] = query.status ? [query.status] : ['success', 'failure'];
  const buckets = await readCounterBuckets(
    config.AGGREGATES_TABLE_NAME,
    { granularity: 'hour', models, statuses, ...hourBucketsOf(range) },
    meter,
  );
  return combine(buckets, emptyCounters);
}

async function summary(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const { query, range } = parseCommonQuery(event);
  const length = range.endMs - range.startMs;
  const previousRange = { ...range, startMs: range.startMs - length, endMs: range.startMs };
  const [current, previous] = await Promise.all([
    totalsOver(query, range, meter),
    totalsOver(query, previousRange, meter),
  ]);
  return summaryBody({ from: range.from, to: range.to, tz: query.tz }, current, previous);
}

async function health(_event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  // Reading the model registry proves the store answers.
  await listModels(config.AGGREGATES_TABLE_NAME, meter);
  return { status: 'ok' };
}

const routes: Record<string, (event: HttpEvent, meter: ReadMeter) => Promise<unknown>> = {
  '/api/health': health,
  '/api/summary': summary,
};

async function route(event: HttpEvent): Promise<HttpResult> {
  const path = event.rawPath;
  const endpoint = routes[path];
  if (!endpoint) throw new NotFoundError(`no endpoint ${path.slice(0, 200)}`);
  if (event.requestContext.http.method !== 'GET') {
    throw new MethodNotAllowedError(`${event.requestContext.http.method} is not allowed on ${path}; use GET`);
  }
  const meter = new ReadMeter();
  const body = await endpoint(event, meter);
  logger.info('query', {
    path,
    itemsRead: meter.items,
    queries: meter.queries,
    capacityUnits: meter.capacityUnits,
  });
  return jsonResponse(200, body, {
    'x-items-read': String(meter.items),
    'x-read-capacity-units': String(meter.capacityUnits),
  });
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpHeaderNormalizer())
  .use(httpErrors(logger))
  .handler(route);
