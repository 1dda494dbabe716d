/**
 * Reads of individual runs through the Executions table's `byStartTime`
 * index, never a scan: one Query per UTC day partition (`startDay`), newest
 * first, with `startKey BETWEEN` bounding the range within the day.
 */
import type { AttributeValue, QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { RunCursor } from '../domain/cursor';
import { UNKNOWN_ERROR_TYPE } from '../domain/deltas';
import type { ExecutionView } from '../domain/execution';
import { DAY_MS } from '../domain/local-time';
import { utcDayKey } from '../domain/time';
import { type Item, queryPages, type ReadMeter } from './query-pages';
import { type RunImage, runImageSchema, toExecutionView } from './run-item';
import { executionsTable } from './tables';

const [byStartTime] = executionsTable.globalSecondaryIndexes;

export interface RunFilter {
  /** [startMs, endMs) of the runs' start times. */
  readonly startMs: number;
  readonly endMs: number;
  readonly models: readonly string[];
  readonly status?: 'success' | 'failure';
  readonly errorType?: string;
}

const padded = (epochMs: number) => String(epochMs).padStart(15, '0');

/** The UTC day partitions that hold runs of [startMs, endMs), newest first. */
export function dayPartitionsNewestFirst(startMs: number, endMs: number): string[] {
  const days: string[] = [];
  for (
    let day = Math.floor((endMs - 1) / DAY_MS) * DAY_MS;
    day >= Math.floor(startMs / DAY_MS) * DAY_MS;
    day -= DAY_MS
  )
    days.push(utcDayKey(day));
  return days;
}

/** FilterExpression parts for the run filter (the key condition already bounds the time). */
function filterExpressionOf(filter: RunFilter) {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  const conditions: string[] = [];
  if (filter.models.length > 0) {
    names['#model'] = 'model';
    const placeholders = filter.models.map((model, index) => {
      values[`:m${index}`] = { S: model };
      return `:m${index}`;
    });
    conditions.push(`#model IN (${placeholders.join(', ')})`);
  }
  if (filter.status) {
    names['#status'] = 'status';
    values[':status'] = { S: filter.status };
    conditions.push('#status = :status');
  }
  if (filter.errorType !== undefined) {
    names['#errorType'] = 'errorType';
    values[':errorType'] = { S: filter.errorType };
    if (filter.errorType === UNKNOWN_ERROR_TYPE) {
      // The aggregates count a failure without an errorType as Unknown; so does the drill-down.
      names['#status'] = 'status';
      values[':failure'] = { S: 'failure' };
      conditions.push(
        '(#errorType = :errorType OR (attribute_not_exists(#errorType) AND #status = :failure))',
      );
    } else {
      conditions.push('#errorType = :errorType');
    }
  }
  return conditions.length === 0
    ? {}
    : {
        FilterExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      };
}

/** The Query of one day partition, newest first, bounded to [startMs, endMs) and filtered. */
function dayQueryInput(tableName: string, day: string, filter: RunFilter): QueryCommandInput {
  const filterParts = filterExpressionOf(filter);
  return {
    TableName: tableName,
    IndexName: byStartTime.indexName,
    KeyConditionExpression: '#day = :day AND #key BETWEEN :low AND :high',
    ...filterParts,
    ExpressionAttributeNames: {
      ...filterParts.ExpressionAttributeNames,
      '#day': byStartTime.partitionKey.name,
      '#key': byStartTime.sortKey.name,
    },
    ExpressionAttributeValues: {
      ...filterParts.ExpressionAttributeValues,
      ':day': { S: day },
      // Keys are `<15 digits>#<id>`: every key of the range is ≥ low, and
      // every one below endMs sorts below the bare digits of endMs.
      ':low': { S: padded(filter.startMs) },
      ':high': { S: padded(filter.endMs) },
    },
    ScanIndexForward: false,
  };
}

interface DayQuery {
  readonly day: string;
  readonly exclusiveStartKey?: Item;
}

/** The day partitions to read, newest first, resuming after `after` when given. */
function dayQueries(filter: RunFilter, after?: RunCursor): DayQuery[] {
  const days = dayPartitionsNewestFirst(filter.startMs, filter.endMs);
  if (!after) return days.map((day) => ({ day }));
  return days
    .filter((day) => day <= after.startDay)
    .map((day) =>
      day === after.startDay
        ? {
            day,
            exclusiveStartKey: {
              startDay: { S: after.startDay },
              startKey: { S: after.startKey },
              executionId: { S: after.startKey.slice(16) },
            },
          }
        : { day },
    );
}

function toRun(
  item: Item,
): { view: ExecutionView; image: RunImage; startDay: string; startKey: string } | null {
  const plain = unmarshall(item);
  const parsed = runImageSchema.safeParse(plain);
  if (!parsed.success) return null; // not a run (written by hand); the aggregates skip it too
  return {
    view: toExecutionView(parsed.data),
    image: parsed.data,
    startDay: plain.startDay,
    startKey: plain.startKey,
  };
}

/**
 * Runs of the filter, newest first, day partition by day partition, page by
 * page. `pageSize` caps the items DynamoDB reads per request.
 */
export async function* runsNewestFirst(
  tableName: string,
  filter: RunFilter,
  meter: ReadMeter,
  options: { after?: RunCursor; pageSize?: number } = {},
): AsyncGenerator<{ view: ExecutionView; image: RunImage; startDay: string; startKey: string }> {
  for (const { day, exclusiveStartKey } of dayQueries(filter, options.after)) {
    const pages = queryPages(meter, {
      ...dayQueryInput(tableName, day, filter),
      ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
      ...(options.pageSize ? { Limit: options.pageSize } : {}),
    });
    for await (const page of pages) {
      for (const item of page.items) {
        const run = toRun(item);
        if (run) yield run;
      }
    }
  }
}

/** One page of runs and the cursor after its last run (undefined when there are no more). */
export async function readRunsPage(
  tableName: string,
  filter: RunFilter,
  meter: ReadMeter,
  options: { limit: number; after?: RunCursor },
): Promise<{ runs: ExecutionView[]; next?: RunCursor }> {
  const runs: ExecutionView[] = [];
  let last: RunCursor | undefined;
  // One run more than asked for tells whether a next page exists. Filters are
  // applied after DynamoDB reads, so read in bigger pages when they are set.
  const filtered = filter.models.length > 0 || filter.status !== undefined || filter.errorType !== undefined;
  const pageSize = Math.min(1000, filtered ? (options.limit + 1) * 4 : options.limit + 1);
  for await (const run of runsNewestFirst(tableName, filter, meter, { after: options.after, pageSize })) {
    if (runs.length === options.limit) return { runs, next: last };
    runs.push(run.view);
    last = { startDay: run.startDay, startKey: run.startKey };
  }
  return { runs };
}
