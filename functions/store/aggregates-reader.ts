/**
 * Reads of the Aggregates table. Every read is a Query over one model's hour
 * or day series with `sk BETWEEN`, so the items read depend on the range, the
 * granularity and the number of models, never on the number of runs.
 */
import type { KeySpan, ReadPlan } from '../domain/query-range';
import type { Totals } from '../domain/rates';
import {
  aggregateSeriesPk,
  type DecodedAggregate,
  decodeAggregate,
  type Granularity,
  MODELS_PK,
  type RunStatus,
} from './aggregate-keys';
import { type Item, queryAll, ReadMeter } from './query-pages';

export { ReadMeter };

/** One aggregate item: a model's figures for one hour or day. */
export interface AggregateBucket extends DecodedAggregate {
  readonly model: string;
  /** Bucket key: `2026-11-01T13` or `2026-11-01`. */
  readonly bucket: string;
}

/** One status's share of an aggregate item, the unit the domain modules sum. */
export interface CounterBucket extends Totals {
  readonly model: string;
  readonly status: RunStatus;
  readonly bucket: string;
}

export interface ErrorBucket {
  readonly model: string;
  readonly bucket: string;
  readonly errorType: string;
  readonly count: number;
}

function numbersOf(item: Item): [string, string][] {
  return Object.entries(item).flatMap(([name, value]): [string, string][] =>
    value.N === undefined ? [] : [[name, value.N]],
  );
}

/** Every model that has ever had a run, from the registry the stream handler keeps. */
export async function listModels(tableName: string, meter: ReadMeter): Promise<string[]> {
  const items = await queryAll(meter, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: MODELS_PK } },
  });
  return items.map((item) => item.sk?.S ?? '').filter((model) => model !== '');
}

export interface SeriesSelection {
  readonly models: readonly string[];
  /** The hour and day spans to read (see readPlanOf in domain/query-range.ts). */
  readonly plan: ReadPlan;
}

/** Every (granularity, span) Query a plan makes for one series. */
function spansOf(plan: ReadPlan): { granularity: Granularity; span: KeySpan }[] {
  return [
    ...plan.hourSpans.map((span) => ({ granularity: 'hour' as const, span })),
    ...plan.daySpans.map((span) => ({ granularity: 'day' as const, span })),
  ];
}

/**
 * The aggregate items of every selected model within the plan's spans: one
 * Query per (model, span), all in parallel.
 */
export async function readAggregates(
  tableName: string,
  selection: SeriesSelection,
  meter: ReadMeter,
): Promise<AggregateBucket[]> {
  const queries = selection.models.flatMap((model) =>
    spansOf(selection.plan).map((read) => ({ model, ...read })),
  );
  const perQuery = await Promise.all(
    queries.map(async ({ model, granularity, span }) => {
      const items = await queryAll(meter, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
        ExpressionAttributeValues: {
          ':pk': { S: aggregateSeriesPk(granularity, model) },
          ':first': { S: span.first },
          ':last': { S: span.last },
        },
      });
      return items.map(
        (item): AggregateBucket => ({ model, bucket: item.sk?.S ?? '', ...decodeAggregate(numbersOf(item)) }),
      );
    }),
  );
  return perQuery.flat();
}

/** The selected statuses' shares of aggregate items. */
export function counterBucketsOf(
  items: readonly AggregateBucket[],
  statuses: readonly RunStatus[],
): CounterBucket[] {
  return items.flatMap((item) =>
    statuses.map((status) => ({ model: item.model, status, bucket: item.bucket, ...item.byStatus[status] })),
  );
}

/** The error-type counts of aggregate items. */
export function errorBucketsOf(items: readonly AggregateBucket[]): ErrorBucket[] {
  return items.flatMap((item) =>
    [...item.errors].map(([errorType, count]) => ({
      model: item.model,
      bucket: item.bucket,
      errorType,
      count,
    })),
  );
}
