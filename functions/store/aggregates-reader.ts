/**
 * Reads of the Aggregates table. Every read is a Query over one series with
 * `sk BETWEEN`, so the items read depend on the range, the granularity and
 * the number of models, never on the number of runs. Consumed read capacity is
 * totalled so that the bench can show it stays flat.
 */
import { type AttributeValue, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { COUNTER_NAMES, type Counters } from '../domain/deltas';
import { type Histogram, isBucketAttribute } from '../domain/sketch';
import {
  counterSeriesPk,
  errorSeriesPk,
  type Granularity,
  MODELS_PK,
  parseErrorSk,
  type RunStatus,
} from './aggregate-keys';
import { dynamodb } from './clients';
import { withRetry } from './retry';

/** Items and capacity a request read, for ReturnConsumedCapacity reporting. */
export class ReadMeter {
  items = 0;
  queries = 0;
  capacityUnits = 0;
  record(output: QueryCommandOutput): void {
    this.queries++;
    this.items += output.Count ?? 0;
    this.capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
  }
}

export interface CounterBucket {
  readonly model: string;
  readonly status: RunStatus;
  /** Bucket key: `2026-11-01T13` or `2026-11-01`. */
  readonly bucket: string;
  readonly counters: Counters;
  readonly histogram: Histogram;
}

export interface ErrorBucket {
  readonly model: string;
  readonly bucket: string;
  readonly errorType: string;
  readonly count: number;
}

export function emptyCounters(): Counters {
  return {
    executions: 0,
    successes: 0,
    failures: 0,
    costNanos: 0n,
    unknownCostRuns: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    llmCalls: 0,
    toolCalls: 0,
    filesModified: 0,
    durationMsSum: 0,
  };
}

function readCounters(item: Record<string, AttributeValue>): { counters: Counters; histogram: Histogram } {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) {
    const value = item[name]?.N;
    if (value === undefined) continue;
    if (name === 'costNanos') counters.costNanos = BigInt(value);
    else counters[name] = Number(value);
  }
  const histogram: Histogram = new Map();
  for (const [attribute, value] of Object.entries(item)) {
    if (value.N !== undefined && isBucketAttribute(attribute)) histogram.set(attribute, Number(value.N));
  }
  return { counters, histogram };
}

async function queryAll(
  meter: ReadMeter,
  input: ConstructorParameters<typeof QueryCommand>[0],
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let exclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const output = await withRetry(() =>
      dynamodb.send(
        new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey, ReturnConsumedCapacity: 'TOTAL' }),
      ),
    );
    meter.record(output);
    items.push(...(output.Items ?? []));
    exclusiveStartKey = output.LastEvaluatedKey;
  } while (exclusiveStartKey);
  return items;
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
  readonly granularity: Granularity;
  readonly models: readonly string[];
  readonly statuses: readonly RunStatus[];
  /** First and last bucket keys, both inclusive. */
  readonly firstBucket: string;
  readonly lastBucket: string;
}

/** Counter items of every selected (model, status) series within the bucket range. */
export async function readCounterBuckets(
  tableName: string,
  selection: SeriesSelection,
  meter: ReadMeter,
): Promise<CounterBucket[]> {
  const series = selection.models.flatMap((model) => selection.statuses.map((status) => ({ model, status })));
  const perSeries = await Promise.all(
    series.map(async ({ model, status }) => {
      const items = await queryAll(meter, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
        ExpressionAttributeValues: {
          ':pk': { S: counterSeriesPk(selection.granularity, status, model) },
          ':first': { S: selection.firstBucket },
          ':last': { S: selection.lastBucket },
        },
      });
      return items.map(
        (item): CounterBucket => ({ model, status, bucket: item.sk?.S ?? '', ...readCounters(item) }),
      );
    }),
  );
  return perSeries.flat();
}

/** Error-type counts of every selected model within the bucket range. */
export async function readErrorBuckets(
  tableName: string,
  selection: Omit<SeriesSelection, 'statuses'>,
  meter: ReadMeter,
): Promise<ErrorBucket[]> {
  const perModel = await Promise.all(
    selection.models.map(async (model) => {
      const items = await queryAll(meter, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
        ExpressionAttributeValues: {
          ':pk': { S: errorSeriesPk(selection.granularity, model) },
          ':first': { S: selection.firstBucket },
          // Error sort keys are `<bucket>#<errorType>`; '#\uffff' sorts after any error type of the last bucket.
          ':last': { S: `${selection.lastBucket}#\uffff` },
        },
      });
      return items.map((item): ErrorBucket => {
        const { bucket, errorType } = parseErrorSk(selection.granularity, item.sk?.S ?? '');
        return { model, bucket, errorType, count: Number(item.count?.N ?? 0) };
      });
    }),
  );
  return perModel.flat();
}
