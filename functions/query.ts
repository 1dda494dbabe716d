/**
 * GET /api/*: read endpoints. Aggregate endpoints read only the Aggregates
 * table (items depend on range, granularity and models, never on runs);
 * drill-down reads the Executions `byStartTime` index.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { z } from 'zod';
import { loadQueryConfig } from './config';
import { alarmRule, alarmWindow, countAlarmWindow, evaluateAlarm } from './domain/alarm-rule';
import { bucketsOfBaseline } from './domain/anomalies';
import type { RunStatus } from './domain/counters';
import { csvHeader, csvRow } from './domain/csv';
import { cursorStartMs, decodeCursor, encodeCursor } from './domain/cursor';
import { ALL_MODELS } from './domain/deltas';
import { errorsBody } from './domain/errors-report';
import { modelsBody, modelsWithRunsBetween, signedTotalsPerModel } from './domain/models';
import {
  bucketsBefore,
  bucketsOf,
  type CommonQuery,
  checkGranularity,
  comparedPreviousRange,
  defaultGranularity,
  queryIssues,
  querySchemas,
  type ResolvedRange,
  resolveRange,
  signedPlanOf,
} from './domain/query-range';
import { summaryBody } from './domain/summary';
import { utcDayKey } from './domain/time';
import { signedTotalsPerSpan, timeseriesBody } from './domain/timeseries';
import { InvalidQueryError, MethodNotAllowedError, NotFoundError } from './http/errors';
import { countServerErrors, type HttpEvent, type HttpResult, httpErrors } from './http/middleware';
import { csvResponse, jsonResponse } from './http/response';
import type { HEALTH_PATH, ReadPath } from './http/routes';
import {
  counterBucketsOf,
  errorBucketsOf,
  listModels,
  otherErrorBucketsOf,
  probeStore,
  READ_BUDGET,
  ReadMeter,
  readAggregates,
  readCostOf,
  type SeriesSelection,
  withinReadBudget,
} from './store/aggregates-reader';
import { readAlarmState } from './store/cloudwatch-alarm';
import { MetricsEmitter } from './store/metrics-emitter';
import { ReadBudgetSpentError, readRunsPage, runsNewestFirst } from './store/runs-reader';

const config = loadQueryConfig();
const logger = new Logger({ serviceName: 'fixer-metrics-query' });
const metrics = new MetricsEmitter({ namespace: config.METRICS_NAMESPACE, stage: config.STAGE, logger });
const table = { aggregates: config.AGGREGATES_TABLE_NAME, executions: config.EXECUTIONS_TABLE_NAME };

/**
 * A synchronous Lambda response carries at most 6 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
 * counted on the serialized result: the body as a JSON string, in UTF-8, with
 * every `"`, `\r` and `\n` escaped. 500 000 bytes are left for the headers
 * and the envelope; a body that would not fit (a CSV, or the JSON of tens of
 * thousands of models) is refused with advice instead of failing as a 5xx.
 */
const MAX_BODY_BYTES = 5_500_000;

/** Bytes `text` takes inside the JSON of a Lambda result: escaped, then UTF-8. */
function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** A CSV body the router answers as a download instead of JSON. */
class CsvDownload {
  constructor(
    readonly body: string,
    readonly filename: string,
  ) {}
}

function parseQuery<T extends z.ZodObject>(event: HttpEvent, schema: T): z.output<T> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw new InvalidQueryError(queryIssues(parsed.error.issues, Object.keys(schema.shape)));
  return parsed.data;
}

function rangeOf(query: CommonQuery): ResolvedRange {
  const range = resolveRange(query, Date.now());
  if (Array.isArray(range)) throw new InvalidQueryError(range);
  return range;
}

/** The models a request covers: those named, or every model the registry knows. */
async function selectedModels(
  query: CommonQuery,
  spans: readonly { startMs: number; endMs: number }[],
  meter: ReadMeter,
): Promise<readonly string[]> {
  if (query.model.length > 0) return query.model;
  const fromDay = utcDayKey(Math.min(...spans.map(({ startMs }) => startMs)));
  const toDay = utcDayKey(Math.max(...spans.map(({ endMs }) => endMs)) - 1);
  return modelsWithRunsBetween(await listModels(table.aggregates, meter), fromDay, toDay);
}

/**
 * The series whose sum a request wants when it needs no per-model figures:
 * the named models, or without a filter the all-models rollup, one item per
 * bucket however many models there are (no registry read either).
 */
const summedSeries = (query: CommonQuery): readonly string[] =>
  query.model.length > 0 ? query.model : [ALL_MODELS];

const statusesOf = (query: CommonQuery): RunStatus[] =>
  query.status ? [query.status] : ['success', 'failure'];

const grouped = (count: number) => count.toLocaleString('en-US');

/**
 * Refuses a plan over READ_BUDGET with a 400 that says how to narrow it:
 * name fewer models when some number of them fits, else shorten the range.
 */
function checkReadBudget(keys: Pick<SeriesSelection, 'hourKeys' | 'dayKeys'>, models: number): void {
  const cost = readCostOf(keys, models);
  if (withinReadBudget(cost)) return;
  let fitting = 0;
  while (fitting < models && withinReadBudget(readCostOf(keys, fitting + 1))) fitting++;
  const planned = `this request would read up to ${grouped(cost.items)} aggregate items in ${grouped(cost.calls)} calls (${grouped(models)} models); one request may read at most ${grouped(READ_BUDGET.items)} items in ${READ_BUDGET.calls} calls`;
  throw new InvalidQueryError([
    fitting >= 1
      ? {
          path: 'model',
          message: `${planned}: name at most ${grouped(fitting)} models with model=, or narrow from..to`,
        }
      : { path: 'from', message: `${planned}: narrow from..to` },
  ]);
}

/**
 * The models of the request and the aggregate items whose signed sums are
 * exactly `spans` (see signedPlanOf), with the plan that combines them. The
 * plan is checked against the read budget before anything is read (with one
 * model when the request names none), and again once the registry has said
 * how many models there are, before any aggregate is read. `summed`: the
 * request needs only the sum over its models (summedSeries).
 */
async function aggregatesOver(
  query: CommonQuery,
  spans: readonly { startMs: number; endMs: number }[],
  meter: ReadMeter,
  { summed = false } = {},
) {
  const plan = signedPlanOf(spans);
  checkReadBudget(plan, Math.max(1, query.model.length));
  const models = summed ? summedSeries(query) : await selectedModels(query, spans, meter);
  checkReadBudget(plan, models.length);
  const items = await readAggregates(
    table.aggregates,
    { models, hourKeys: plan.hourKeys, dayKeys: plan.dayKeys },
    meter,
  );
  return { models, plan, items };
}

/** The totals of each span, over the models and statuses the request selects. */
async function totalsOfSpans(
  query: CommonQuery,
  spans: readonly { startMs: number; endMs: number }[],
  meter: ReadMeter,
) {
  const { plan, items } = await aggregatesOver(query, spans, meter, { summed: true });
  return signedTotalsPerSpan(plan.perSpan, counterBucketsOf(items, statusesOf(query)));
}

async function summary(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.summary);
  const range = rangeOf(query);
  const before = comparedPreviousRange(range, Date.now());
  const [current, previous] = await totalsOfSpans(query, [range, before], meter);
  return summaryBody({ from: range.from, to: range.to, tz: range.tz }, current!, previous!, before);
}

async function timeseries(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.timeseries);
  const range = rangeOf(query);
  const granularity = query.granularity ?? defaultGranularity(range);
  const problem = checkGranularity(range, granularity);
  if (problem) throw new InvalidQueryError([problem]);
  const baseline = bucketsBefore(range, granularity, bucketsOfBaseline(granularity));
  const buckets = bucketsOf(range, granularity);
  const all = [...baseline, ...buckets];
  const totals = await totalsOfSpans(query, all, meter);
  const withTotals = all.map((bucket, index) => ({ bucket, totals: totals[index]! }));
  return timeseriesBody(
    Date.now(),
    granularity,
    range.tz,
    withTotals.slice(0, baseline.length),
    withTotals.slice(baseline.length),
  );
}

async function models(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.models);
  const range = rangeOf(query);
  const { models: names, plan, items } = await aggregatesOver(query, [range], meter);
  const perModel = signedTotalsPerModel(names, counterBucketsOf(items, statusesOf(query)), plan.perSpan[0]!);
  return modelsBody(perModel, query.model);
}

async function errors(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.errors);
  const range = rangeOf(query);
  const { models: names, plan, items } = await aggregatesOver(query, [range], meter);
  const terms = plan.perSpan[0]!;
  const signs = new Map(terms.map(({ key, sign }) => [key, sign]));
  const errorCounts =
    query.status === 'success'
      ? []
      : errorBucketsOf(items).map((entry) => ({
          ...entry,
          count: entry.count * (signs.get(entry.bucket) ?? 0),
        }));
  const unlistedFailures =
    query.status === 'success'
      ? 0
      : otherErrorBucketsOf(items).reduce(
          (sum, entry) => sum + entry.count * (signs.get(entry.bucket) ?? 0),
          0,
        );
  const outcomes = [...signedTotalsPerModel(names, counterBucketsOf(items, statusesOf(query)), terms)].map(
    ([model, { counters: totals }]) => ({
      model,
      executions: totals.executions,
      failures: totals.failures,
    }),
  );
  return errorsBody(errorCounts, outcomes, query.limit, unlistedFailures);
}

async function runs(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.runs);
  const range = rangeOf(query);
  const filter = {
    startMs: range.startMs,
    endMs: range.endMs,
    models: query.model,
    status: query.status,
    errorType: query.errorType,
  };
  if (query.format === 'csv') {
    let body = csvHeader();
    let bytes = jsonStringBytes(body);
    let count = 0;
    try {
      for await (const run of runsNewestFirst(table.executions, filter, meter)) {
        const row = csvRow(run);
        body += row;
        bytes += jsonStringBytes(row);
        count++;
        if (bytes > MAX_BODY_BYTES) {
          throw new InvalidQueryError([
            {
              path: 'to',
              message: `the CSV of this range passes the ${MAX_BODY_BYTES / 1e6} MB a response can carry after ${count} runs; narrow from..to or filter by model, status or errorType`,
            },
          ]);
        }
      }
    } catch (error) {
      if (!(error instanceof ReadBudgetSpentError)) throw error;
      throw new InvalidQueryError([
        {
          path: 'to',
          message: `the CSV of this range needs more than the ${error.budget.items} index items one export may read (${error.runsRead} runs found); narrow from..to, or page through it with format=json`,
        },
      ]);
    }
    return new CsvDownload(body, `runs-${range.from}-${range.to}.csv`);
  }
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && after === undefined)
    throw new InvalidQueryError([{ path: 'cursor', message: 'cursor is not one this API returned' }]);
  if (after && (cursorStartMs(after) < range.startMs || cursorStartMs(after) > range.endMs))
    throw new InvalidQueryError([
      { path: 'cursor', message: 'cursor belongs to another range; keep from and to' },
    ]);
  const page = await readRunsPage(table.executions, filter, meter, { limit: query.limit, after });
  return {
    runs: page.runs,
    nextCursor: page.next ? encodeCursor(page.next) : null,
    // Where the page stopped reading: runs before this instant are still to come.
    searchedTo: new Date(page.next ? cursorStartMs(page.next) : range.startMs).toISOString(),
  };
}

/**
 * The 85 % rule over the trailing 60 minutes (whole minutes, the current one
 * included), from the per-minute counts of two hour items per model named,
 * or of the all-models rollup: the items read do not grow with the runs of
 * the hour, nor, unfiltered, with the models.
 */
async function alarm(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  const query = parseQuery(event, querySchemas.alarm);
  rangeOf(query); // validated like everywhere; the window itself is always the trailing hour
  const window = alarmWindow(Date.now());
  const readCounts = async () => {
    const models = summedSeries(query);
    checkReadBudget({ hourKeys: window.hourKeys, dayKeys: [] }, models.length);
    const hours = await readAggregates(
      table.aggregates,
      { models, hourKeys: window.hourKeys, dayKeys: [] },
      meter,
    );
    return countAlarmWindow(hours, window, statusesOf(query));
  };
  const [counts, cloudwatchState] = await Promise.all([
    readCounts(),
    config.ALARM_NAME === undefined ? undefined : cloudwatchStateOf(config.ALARM_NAME),
  ]);
  const { state, successRate } = evaluateAlarm(counts.executions, counts.successes);
  return {
    state,
    threshold: alarmRule.threshold,
    windowMinutes: alarmRule.windowMinutes,
    minExecutions: alarmRule.minExecutions,
    executions: counts.executions,
    successRate,
    ...(cloudwatchState === undefined ? {} : { cloudwatchState }),
  };
}

/** CloudWatch's view; a failure to ask is reported as null, not as a failed request. */
async function cloudwatchStateOf(alarmName: string) {
  try {
    return await readAlarmState(alarmName);
  } catch (error) {
    logger.warn('DescribeAlarms failed', { error: (error as Error).message });
    return null;
  }
}

async function health(event: HttpEvent, meter: ReadMeter): Promise<unknown> {
  // Filters are validated like everywhere, though health does not use them.
  const query = parseQuery(event, querySchemas.health);
  rangeOf(query);
  // One registry item proves the store answers (its cost must not grow with the models).
  await probeStore(table.aggregates, meter);
  return { status: 'ok' };
}

type Endpoint = (event: HttpEvent, meter: ReadMeter) => Promise<unknown>;

/** Every route of functions/http/routes.ts, and only those: the compiler checks both ways. */
const routes: Record<typeof HEALTH_PATH | ReadPath, Endpoint> = {
  '/api/summary': summary,
  '/api/timeseries': timeseries,
  '/api/models': models,
  '/api/errors': errors,
  '/api/runs': runs,
  '/api/alarm': alarm,
  '/api/health': health,
};

async function route(event: HttpEvent): Promise<HttpResult> {
  const path = event.rawPath;
  const endpoint = (routes as Record<string, Endpoint | undefined>)[path];
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
  const readHeaders = {
    'x-items-read': String(meter.items),
    'x-read-capacity-units': String(meter.capacityUnits),
  };
  if (body instanceof CsvDownload) return csvResponse(body.body, body.filename, readHeaders);
  const answer = jsonResponse(200, body, readHeaders);
  const bytes = jsonStringBytes(answer.body ?? '');
  if (bytes > MAX_BODY_BYTES) {
    // Only a list per model grows this far: ranges and page sizes keep every other answer well under it.
    throw new InvalidQueryError([
      {
        path: 'model',
        message: `this answer would take ${(bytes / 1e6).toFixed(1)} MB, over the ${MAX_BODY_BYTES / 1e6} MB a response can carry; name fewer models with model=, or narrow from..to`,
      },
    ]);
  }
  return answer;
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(countServerErrors(metrics, 'query'))
  .use(httpHeaderNormalizer())
  .use(httpErrors(logger))
  .handler(route);
