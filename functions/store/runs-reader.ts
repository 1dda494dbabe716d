/**
 * Reads of individual runs through the Executions table's `byStartTime`
 * index, never a scan. Each UTC day is spread over RUN_INDEX_SHARDS write
 * shards (`<day>#<shard>`): a page queries the shards of a day in parallel,
 * newest first, with `startKey BETWEEN` bounding the range, and merges them
 * (functions/domain/shard-merge.ts) under a read budget. docs/RUNS.md.
 */
import type { AttributeValue, QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { paddedMs, type RunCursor } from '../domain/cursor';
import { UNKNOWN_ERROR_TYPE } from '../domain/deltas';
import type { ExecutionView } from '../domain/execution';
import { DAY_MS } from '../domain/local-time';
import { type Keyed, mergeNewestFirst, type ShardGroup } from '../domain/shard-merge';
import { utcDayKey } from '../domain/time';
import { type Item, queryPage, type ReadMeter } from './query-pages';
import { RUN_INDEX_SHARDS, runImageSchema, startShardKey, toExecutionView } from './run-item';
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

/** The UTC days that hold runs of [startMs, endMs), newest first. */
function dayPartitionsNewestFirst(startMs: number, endMs: number): string[] {
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

/**
 * How much one request may read. A page always reads one Query per shard of
 * its first day whatever the budget, so it always moves on.
 */
export interface ReadBudget {
  /** Query calls (one per shard and page of a shard). */
  readonly queries: number;
  /** Items read, matching the filter or not (what DynamoDB bills). */
  readonly items: number;
}

/** Read budget of one drill-down page: 8 days of shards, ~5.6 MB at 1.4 KB a run (docs/RUNS.md). */
export const RUNS_PAGE_BUDGET: ReadBudget = { queries: 8 * RUN_INDEX_SHARDS, items: 4_000 };

/** Read budget of a whole CSV export (docs/RUNS.md). */
const RUNS_CSV_BUDGET: ReadBudget = { queries: 100 * RUN_INDEX_SHARDS, items: 60_000 };

/** The Query of one shard of one day, newest first, bounded to [low, high] and filtered. */
function shardQueryInput(
  tableName: string,
  partition: string,
  low: string,
  high: string,
  filter: RunFilter,
): QueryCommandInput {
  const filterParts = filterExpressionOf(filter);
  return {
    TableName: tableName,
    IndexName: byStartTime.indexName,
    KeyConditionExpression: '#part = :part AND #key BETWEEN :low AND :high',
    ...filterParts,
    ExpressionAttributeNames: {
      ...filterParts.ExpressionAttributeNames,
      '#part': byStartTime.partitionKey.name,
      '#key': byStartTime.sortKey.name,
    },
    ExpressionAttributeValues: {
      ...filterParts.ExpressionAttributeValues,
      ':part': { S: partition },
      ':low': { S: low },
      ':high': { S: high },
    },
    ScanIndexForward: false,
  };
}

function toRun(item: Item): Keyed<ExecutionView> | null {
  const plain = unmarshall(item);
  const parsed = runImageSchema.safeParse(plain);
  // Not a run (written by hand): the aggregates skip it too.
  if (!parsed.success || typeof plain.startKey !== 'string') return null;
  return { key: plain.startKey, value: toExecutionView(parsed.data) };
}

/**
 * The days to read below the position `below`, newest first, each as its
 * shards. Keys are `<15 digits>#<id>`: every key of the range is ≥ the bare
 * digits of its start, and every one below endMs sorts below the bare digits
 * of endMs. The top bound is inclusive, so a page read from a run's key reads
 * that run again and the merge drops it: one item, where a synthetic
 * ExclusiveStartKey per shard would name an item the shard does not hold.
 */
function* dayGroups(
  tableName: string,
  filter: RunFilter,
  meter: ReadMeter,
  below: string,
): Generator<ShardGroup<ExecutionView>> {
  const belowMs = Number(below.slice(0, 15));
  // A bare position is an instant: the runs below it started before it.
  const topMs = below.includes('#') ? belowMs : belowMs - 1;
  for (const day of dayPartitionsNewestFirst(filter.startMs, Math.min(filter.endMs, topMs + 1))) {
    const low = paddedMs(Math.max(filter.startMs, Date.parse(`${day}T00:00:00.000Z`)));
    const resume: (Item | undefined)[] = [];
    yield {
      floor: low,
      read: async (shard, pageSize) => {
        const output = await queryPage(meter, {
          ...shardQueryInput(tableName, startShardKey(day, shard), low, below, filter),
          ...(resume[shard] ? { ExclusiveStartKey: resume[shard] } : {}),
          Limit: pageSize,
        });
        resume[shard] = output.lastEvaluatedKey;
        const lastKey = output.lastEvaluatedKey?.startKey?.S;
        return {
          entries: output.items.map(toRun).filter((run) => run !== null),
          ...(lastKey === undefined ? {} : { lastKey }),
        };
      },
    };
  }
}

const isFiltered = (filter: RunFilter) =>
  filter.models.length > 0 || filter.status !== undefined || filter.errorType !== undefined;

/**
 * One page of runs, newest first, and the cursor it ends at (undefined when
 * the range is read out). The page holds `limit` runs, or fewer when the read
 * budget ran out first, even none: its cursor then still lies below the
 * incoming one, so following the cursors always reaches the end.
 */
export async function readRunsPage(
  tableName: string,
  filter: RunFilter,
  meter: ReadMeter,
  options: { limit: number; after?: RunCursor; budget?: ReadBudget },
): Promise<{ runs: ExecutionView[]; next?: RunCursor; budgetSpent: boolean }> {
  const budget = options.budget ?? RUNS_PAGE_BUDGET;
  const startQueries = meter.queries;
  const startItems = meter.items;
  // Filters apply after DynamoDB reads, so filtered pages read more per shard.
  const spread = isFiltered(filter) ? 4 : 1;
  const below = options.after?.position ?? paddedMs(filter.endMs);
  const page = await mergeNewestFirst(dayGroups(tableName, filter, meter, below), {
    limit: options.limit,
    shards: RUN_INDEX_SHARDS,
    below,
    pageSize: (wanted, shardsToRead) => {
      const itemsLeft = Math.floor((budget.items - (meter.items - startItems)) / shardsToRead);
      const share = spread * (Math.ceil(wanted / RUN_INDEX_SHARDS) + 1);
      return Math.max(2, Math.min(1000, share, itemsLeft));
    },
    mayRead: (reads) =>
      meter.queries - startQueries + reads <= budget.queries && meter.items - startItems < budget.items,
  });
  return {
    runs: page.entries,
    ...(page.next === undefined ? {} : { next: { position: page.next } }),
    budgetSpent: page.budgetSpent,
  };
}

/** A whole walk (the CSV export) would read more than its budget. */
export class ReadBudgetSpentError extends Error {
  constructor(
    readonly budget: ReadBudget,
    readonly runsRead: number,
  ) {
    super(`read budget of ${budget.queries} queries and ${budget.items} items spent after ${runsRead} runs`);
  }
}

/**
 * Every run of the filter, newest first, page after page, within `budget`
 * for the whole walk; throws ReadBudgetSpentError when it would need more.
 */
export async function* runsNewestFirst(
  tableName: string,
  filter: RunFilter,
  meter: ReadMeter,
  budget: ReadBudget = RUNS_CSV_BUDGET,
): AsyncGenerator<ExecutionView> {
  const startQueries = meter.queries;
  const startItems = meter.items;
  let after: RunCursor | undefined;
  let runsRead = 0;
  do {
    const left = {
      queries: budget.queries - (meter.queries - startQueries),
      items: budget.items - (meter.items - startItems),
    };
    // A page reads a round of shards whatever its budget: stop before it would pass the walk's.
    if (left.queries < RUN_INDEX_SHARDS || left.items <= 0) throw new ReadBudgetSpentError(budget, runsRead);
    const page = await readRunsPage(tableName, filter, meter, { limit: 1000, after, budget: left });
    yield* page.runs;
    runsRead += page.runs.length;
    after = page.next;
  } while (after);
}
