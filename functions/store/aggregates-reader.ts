/**
 * Reads of the Aggregates table. Every read is a Query over one model's hour
 * or day series with `sk BETWEEN`, so the items read depend on the range, the
 * granularity and the number of models, never on the number of runs.
 */
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { BoundedMap } from '../domain/bounded-map';
import type { RunStatus } from '../domain/counters';
import { DAY_MS } from '../domain/local-time';
import type { RegisteredModel } from '../domain/models';
import { bucketKeyStartMs } from '../domain/query-range';
import type { ReadonlyTotals } from '../domain/rates';
import { HOUR_MS } from '../domain/time';
import {
  aggregateSeriesPk,
  DAY_KEY_LENGTH,
  type DecodedAggregate,
  decodeAggregateItem,
  MODELS_PK,
  registeredModelOf,
  VERSION_ATTRIBUTE,
} from './aggregate-keys';
import { dynamodb } from './clients';
import { type Item, queryAll, queryPage, ReadMeter } from './query-pages';
import { withRetry } from './retry';

export { ReadMeter };

/** One aggregate item: a model's figures for one hour or day. */
export interface AggregateBucket extends DecodedAggregate {
  readonly model: string;
  /** Bucket key: `2026-11-01T13` or `2026-11-01`. */
  readonly bucket: string;
}

/** One status's share of an aggregate item, the unit the domain modules sum. */
export interface CounterBucket extends ReadonlyTotals {
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

/**
 * Proves the table answers with one item of the registry at most: health is
 * open to anyone, so its cost must not grow with the models ever seen.
 */
export async function probeStore(tableName: string, meter: ReadMeter): Promise<void> {
  await queryPage(meter, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: MODELS_PK } },
    Limit: 1,
  });
}

/** Every model that has ever had a run, with its days, from the registry the stream handler keeps. */
export async function listModels(tableName: string, meter: ReadMeter): Promise<RegisteredModel[]> {
  const items = await queryAll(meter, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': { S: MODELS_PK } },
  });
  return items.map(registeredModelOf).filter(({ model }) => model !== '');
}

export interface SeriesSelection {
  /** Whose series to read: models, or ALL_MODELS for the all-models rollup (domain/deltas.ts). */
  readonly models: readonly string[];
  /** Sorted, distinct hour keys (`2026-11-01T13`) and day keys to read (see signedPlanOf). */
  readonly hourKeys: readonly string[];
  readonly dayKeys: readonly string[];
}

/** A run of consecutive hours at least this long is one Query; shorter runs go to BatchGetItem. */
const QUERY_RUN = 16;
/** BatchGetItem's limit. */
const BATCH_KEYS = 100;

/**
 * Splits sorted keys into runs of consecutive buckets (hours or days). Each
 * long run is read whole by one Query: DynamoDB charges a Query for the
 * summed size of the items it returns, rounded up to 4 KB once, while
 * BatchGetItem rounds every item up to 4 KB
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 */
function consecutiveRuns(keys: readonly string[]): string[][] {
  const runs: string[][] = [];
  let previous = Number.NaN;
  for (const key of keys) {
    const startMs = bucketKeyStartMs(key);
    const step = key.length === DAY_KEY_LENGTH ? DAY_MS : HOUR_MS;
    const run = runs[runs.length - 1];
    if (run && startMs === previous + step) run.push(key);
    else runs.push([key]);
    previous = startMs;
  }
  return runs;
}

/** An item read and decoded, with its key. */
interface ReadItem {
  readonly pk: string;
  readonly sk: string;
  readonly decoded: DecodedAggregate;
}

interface SharedRead {
  readonly items: ReadItem[];
  readonly queries: number;
  readonly capacityUnits: number;
}

/**
 * Reads in flight in this container, by request: the dashboard fires
 * summary, models and errors at once and they Query the same day items. An
 * entry lives only until its read settles, so nothing is ever served from a
 * past read (no staleness beyond the read itself).
 */
const inFlight = new Map<string, Promise<SharedRead>>();

/**
 * Runs `read` once per identical `id` in flight and meters it into `meter`.
 * Metering of a shared read: every request that used it counts its items and
 * Queries in `x-items-read` (what the response was built from, the same
 * whether or not another request happened to be asking too), but only the
 * request that actually sent it counts its capacity units, so the capacity
 * summed over responses is what DynamoDB charged.
 */
async function coalesced(id: string, meter: ReadMeter, read: (own: ReadMeter) => Promise<ReadItem[]>) {
  let pending = inFlight.get(id);
  const owner = pending === undefined;
  if (pending === undefined) {
    const own = new ReadMeter();
    pending = read(own).then((items) => ({ items, queries: own.queries, capacityUnits: own.capacityUnits }));
    inFlight.set(id, pending);
    const settled = pending;
    void settled.then(
      () => inFlight.delete(id),
      () => inFlight.delete(id),
    );
  }
  const shared = await pending;
  meter.items += shared.items.length;
  meter.queries += shared.queries;
  if (owner) meter.capacityUnits += shared.capacityUnits;
  return shared.items;
}

/**
 * Items decoded in this container, by key and change token. Every write
 * gives an item a new random token `v` (aggregates-store.ts), so an item read
 * with a token seen before holds exactly the figures decoded then.
 * Callers only read decoded items: the domain sums them into totals of its own.
 */
/** A decoded day item is a few KB; 4,000 hold a year of days for 10 models. */
const decodedByVersion = new BoundedMap<string, DecodedAggregate>(4_000);

/** An item's key as one string. */
const keyIdOf = (item: Item) => `${item.pk?.S}\u0000${item.sk?.S}`;
const versionId = (item: Item, version: string) => `${keyIdOf(item)}\u0000${version}`;

const readItem = (item: Item, decoded: DecodedAggregate): ReadItem => ({
  pk: item.pk?.S ?? '',
  sk: item.sk?.S ?? '',
  decoded,
});

function decodedOf(item: Item): ReadItem {
  const version = item[VERSION_ATTRIBUTE]?.S;
  if (version === undefined) return readItem(item, decodeAggregateItem(item));
  const id = versionId(item, version);
  let decoded = decodedByVersion.get(id);
  if (decoded === undefined) {
    decoded = decodeAggregateItem(item);
    decodedByVersion.set(id, decoded);
  }
  return readItem(item, decoded);
}

/**
 * Series read whole in this container: their items are likely decoded
 * already, so they are read as keys and change tokens first (see
 * readVersionsFirst). Bounded like the decoded items.
 */
const seriesRead = new BoundedMap<string, true>(4_000);

/**
 * The projection of a versions-first read: an item's key and change token.
 * An item is some 150 number attributes (counters, histogram buckets,
 * minutes, error types, watermarks), and the time to read one, in DynamoDB
 * Local and in the SDK's unmarshalling alike, follows its attributes: these
 * three are what a read needs when the figures are decoded already.
 * DynamoDB charges a projected read for the whole item, so the capacity is
 * that of a full read.
 */
const VERSIONS_PROJECTION = {
  ProjectionExpression: '#pk, #sk, #v',
  ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#v': VERSION_ATTRIBUTE },
} as const;

/**
 * At most this many changed items of a read are fetched again by key
 * (BatchGetItem, every item rounded up to 4 KB); more and the whole read is
 * sent again, one call however many changed.
 */
const REFETCH_BY_KEY = 25;

/**
 * Reads of fewer keys are read in full: for a few items (the alarm's two
 * hours, one of them changing all the time) a second call costs more than
 * the attributes it saves.
 */
const VERSIONS_FIRST_FROM = QUERY_RUN;

/**
 * One read (a Query span or a BatchGetItem of keys), decoded. A series not
 * read whole in this container before is read in full. Otherwise its keys
 * and change tokens are read first, and only the items whose token this
 * container has not decoded are fetched again with every attribute: past
 * days and hours rarely change, so a warm read moves three attributes per
 * item instead of ~150. The figures are those of the token read now, as
 * fresh as a full read; an item written since is fetched with its newer
 * token. It costs one more call only when an item changed. `keyCount`:
 * the keys the read covers at most.
 */
async function readVersionsFirst(
  pks: readonly string[],
  keyCount: number,
  full: (own: ReadMeter, projection?: typeof VERSIONS_PROJECTION) => Promise<Item[]>,
  byKey: (own: ReadMeter, keys: readonly Item[]) => Promise<Item[]>,
  own: ReadMeter,
): Promise<ReadItem[]> {
  const decodeAll = (items: Item[]) => {
    for (const pk of pks) seriesRead.set(pk, true);
    return items.map(decodedOf);
  };
  if (keyCount < VERSIONS_FIRST_FROM || !pks.every((pk) => seriesRead.get(pk)))
    return decodeAll(await full(own));
  const listed = await full(own, VERSIONS_PROJECTION);
  const known = new Map<Item, DecodedAggregate>();
  for (const item of listed) {
    const version = item[VERSION_ATTRIBUTE]?.S;
    const decoded = version === undefined ? undefined : decodedByVersion.get(versionId(item, version));
    if (decoded !== undefined) known.set(item, decoded);
  }
  const changed = listed.filter((item) => !known.has(item));
  if (changed.length > REFETCH_BY_KEY) return decodeAll(await full(own));
  // The projection holds only pk, sk and v: the key of a changed item is the item less its v.
  const refetched =
    changed.length === 0
      ? []
      : await byKey(
          own,
          changed.map(({ pk, sk }) => ({ pk, sk }) as Item),
        );
  const fetched = new Map(refetched.map((item) => [keyIdOf(item), item]));
  return listed.flatMap((item): ReadItem[] => {
    const decoded = known.get(item);
    if (decoded !== undefined) return [readItem(item, decoded)];
    const again = fetched.get(keyIdOf(item));
    return again === undefined ? [] : [decodedOf(again)];
  });
}

/** Buckets from `first` to `last`, both day keys or both hour keys. */
const keyCountOf = (first: string, last: string) =>
  Math.round(
    (bucketKeyStartMs(last) - bucketKeyStartMs(first)) / (first.length === DAY_KEY_LENGTH ? DAY_MS : HOUR_MS),
  ) + 1;

function querySpan(tableName: string, pk: string, first: string, last: string, meter: ReadMeter) {
  const input = {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
    ExpressionAttributeValues: { ':pk': { S: pk }, ':first': { S: first }, ':last': { S: last } },
  };
  return coalesced(`Q${JSON.stringify(input)}`, meter, (own) =>
    readVersionsFirst(
      [pk],
      keyCountOf(first, last),
      (reader, projection) => queryAll(reader, { ...input, ...projection }),
      (reader, keys) => batchGetItems(tableName, keys, reader),
      own,
    ),
  );
}

/** Items by key with BatchGetItem (at most 100 keys), retrying unprocessed keys. */
async function batchGetItems(
  tableName: string,
  keys: readonly Item[],
  own: ReadMeter,
  projection?: typeof VERSIONS_PROJECTION,
): Promise<Item[]> {
  const items: Item[] = [];
  let pending: Item[] | undefined = [...keys];
  for (let attempt = 0; pending && pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** attempt)));
    const request: Item[] = pending;
    const output = await withRetry(() =>
      dynamodb.send(
        new BatchGetItemCommand({
          RequestItems: { [tableName]: { Keys: request, ...projection } },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    const got = output.Responses?.[tableName] ?? [];
    items.push(...got);
    own.record({
      Count: got.length,
      ConsumedCapacity: {
        CapacityUnits: (output.ConsumedCapacity ?? []).reduce(
          (sum, { CapacityUnits }) => sum + (CapacityUnits ?? 0),
          0,
        ),
      },
    });
    pending = output.UnprocessedKeys?.[tableName]?.Keys;
  }
  return items;
}

/** Items by key (at most 100 keys), shared with identical reads in flight. */
function batchGet(tableName: string, keys: readonly { pk: string; sk: string }[], meter: ReadMeter) {
  const keyItems = keys.map(({ pk, sk }): Item => ({ pk: { S: pk }, sk: { S: sk } }));
  return coalesced(`B${tableName}\u0000${JSON.stringify(keys)}`, meter, (own) =>
    readVersionsFirst(
      [...new Set(keys.map(({ pk }) => pk))],
      keys.length,
      (reader, projection) => batchGetItems(tableName, keyItems, reader, projection),
      (reader, changed) => batchGetItems(tableName, changed, reader),
      own,
    ),
  );
}

/**
 * What one request may plan against the Aggregates table, checked before
 * any aggregate is read (see `readCostOf` and functions/query.ts): at most
 * this many items (every planned key counts, whether or not it exists) in
 * this many calls (Queries and BatchGetItems; a Query that needs a second
 * 1 MB page counts once, its items are already in `items`). Per model, a
 * 400-day daily timeseries (+14 baseline days) plans 414 items in 1 call in
 * UTC, 2,204 in 19 in New York (4 edge hours a day), 2,904 in 26 in Kolkata
 * (6) and 9,936 in 1 in Fiji (every hour); a 400-day summary (with its
 * previous 400 days) ~800 items in 1–4 calls in any zone. So every model of
 * a 30-day dashboard and 50 models over a 400-day summary fit, and 50
 * models × 400 days of Kolkata timeseries (145,200 items in 1,295 calls)
 * does not: docs/QUERY.md "Read budget" lists what fits.
 */
export const READ_BUDGET = { items: 60_000, calls: 400 } as const;

/** Reads of one request in flight at once: enough to keep DynamoDB busy, never a flood. */
export const READ_CONCURRENCY = 8;

/** Keys of one model's series read as one Query (a run of ≥ QUERY_RUN consecutive keys) or by BatchGetItem. */
interface SeriesPlan {
  readonly granularity: 'hour' | 'day';
  readonly spans: readonly (readonly [first: string, last: string])[];
  readonly byKey: readonly string[];
  readonly items: number;
}

/** Each model's keys, long runs as Queries (or, `batched`, every key by BatchGetItem). */
function plansOfOneModel(
  selection: Pick<SeriesSelection, 'hourKeys' | 'dayKeys'>,
  batched: boolean,
): SeriesPlan[] {
  return (
    [
      ['hour', selection.hourKeys],
      ['day', selection.dayKeys],
    ] as const
  ).map(([granularity, keys]) => {
    const spans: (readonly [string, string])[] = [];
    const byKey: string[] = [];
    for (const run of consecutiveRuns(keys)) {
      if (run.length >= QUERY_RUN && !batched) spans.push([run[0]!, run[run.length - 1]!]);
      else byKey.push(...run);
    }
    return { granularity, spans, byKey, items: keys.length };
  });
}

function costOfPlans(plans: readonly SeriesPlan[], models: number): ReadCost {
  const sum = (of: (plan: SeriesPlan) => number) => plans.reduce((total, plan) => total + of(plan), 0);
  return {
    items: models * sum((plan) => plan.items),
    calls:
      models * sum((plan) => plan.spans.length) +
      Math.ceil((models * sum((plan) => plan.byKey.length)) / BATCH_KEYS),
  };
}

/**
 * How the keys of `models` models are read. Long runs of one model's keys
 * are Queries: DynamoDB charges a Query by the summed size of its items,
 * BatchGetItem every item rounded up to 4 KB. But a Query reads one model,
 * so past READ_BUDGET.calls / spans models (400 models over 30 days) the
 * Queries alone would pass the call budget; then every key goes by
 * BatchGetItem, 100 keys of any models a call (1,333 models over 30 UTC
 * days in 400 calls), each item charged as 4 KB: a request that would
 * otherwise be refused costs more read units instead.
 */
function seriesPlans(selection: Pick<SeriesSelection, 'hourKeys' | 'dayKeys'>, models: number): SeriesPlan[] {
  const queried = plansOfOneModel(selection, false);
  if (costOfPlans(queried, models).calls <= READ_BUDGET.calls) return queried;
  const batched = plansOfOneModel(selection, true);
  return costOfPlans(batched, models).calls <= READ_BUDGET.calls ? batched : queried;
}

export interface ReadCost {
  /** Items planned: every key of every model, whether or not the item exists. */
  readonly items: number;
  /** Queries plus BatchGetItem calls of 100 keys. */
  readonly calls: number;
}

/**
 * What reading `keys` for `models` models costs at most, without reading
 * anything: every model's series have the same keys, so the cost follows
 * from one model's plan.
 */
export function readCostOf(keys: Pick<SeriesSelection, 'hourKeys' | 'dayKeys'>, models: number): ReadCost {
  return costOfPlans(seriesPlans(keys, models), models);
}

export const withinReadBudget = (cost: ReadCost): boolean =>
  cost.items <= READ_BUDGET.items && cost.calls <= READ_BUDGET.calls;

/**
 * Runs `tasks` at most `limit` at a time, results in task order. After a
 * failure no new task starts; the error is thrown once those in flight settle.
 */
async function runBounded<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  const failures: unknown[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length && failures.length === 0) {
      const index = next++;
      try {
        results[index] = await tasks[index]!();
      } catch (error) {
        failures.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}

/**
 * The aggregate items of every selected model under the given keys. Day
 * keys and long runs of consecutive hours are Queries (`sk BETWEEN`); the
 * scattered edge hours of local days are fetched by key with BatchGetItem.
 * At most READ_CONCURRENCY calls are in flight; the caller has checked the
 * plan against READ_BUDGET (`readCostOf`).
 */
export async function readAggregates(
  tableName: string,
  selection: SeriesSelection,
  meter: ReadMeter,
): Promise<AggregateBucket[]> {
  const reads: (() => Promise<ReadItem[]>)[] = [];
  const byKey: { pk: string; sk: string }[] = [];
  const plans = seriesPlans(selection, selection.models.length);
  for (const model of selection.models) {
    for (const plan of plans) {
      const pk = aggregateSeriesPk(plan.granularity, model);
      for (const [first, last] of plan.spans) reads.push(() => querySpan(tableName, pk, first, last, meter));
      for (const sk of plan.byKey) byKey.push({ pk, sk });
    }
  }
  for (let index = 0; index < byKey.length; index += BATCH_KEYS) {
    const keys = byKey.slice(index, index + BATCH_KEYS);
    reads.push(() => batchGet(tableName, keys, meter));
  }
  const modelOf = new Map(
    selection.models.flatMap((model) => [
      [aggregateSeriesPk('hour', model), model],
      [aggregateSeriesPk('day', model), model],
    ]),
  );
  return (await runBounded(reads, READ_CONCURRENCY)).flat().map(
    ({ pk, sk, decoded }): AggregateBucket => ({
      model: modelOf.get(pk) ?? '',
      bucket: sk,
      ...decoded,
    }),
  );
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

/** Failed runs of types an item does not list, per (model, bucket). */
export function otherErrorBucketsOf(items: readonly AggregateBucket[]) {
  return items.map((item) => ({ model: item.model, bucket: item.bucket, count: item.otherErrors }));
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
