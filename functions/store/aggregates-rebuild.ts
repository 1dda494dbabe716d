/**
 * Recovery: recompute the aggregate items of whole UTC days from the runs in
 * the Executions table, while the stream keeps writing them
 * (`npm run rebuild`, bin/rebuild.ts; the argument is in docs/REBUILD.md).
 *
 * The runs of a day are read from the `byStartTime` index (the day's
 * RUN_INDEX_SHARDS partitions) and turned into figures by the aggregate handler's own code: each
 * item is read as an INSERT's new image (store/stream-records.ts), the
 * BatchAccumulator of domain/deltas.ts sums it into its hour and day items,
 * and figuresOf (store/aggregate-keys.ts) lays the sums out as the stream's
 * ADDs do. So a rebuilt item is what the stream
 * would have built from the same runs.
 *
 * Safety with the stream running, per item X:
 * - X is written only if it was quiet for a whole settle window: its version
 *   `v` (which every stream write changes) and its recomputed figures were the
 *   same at both ends of the window, and the write is conditioned on that `v`.
 *   If the stream applies every change within the window (its lag, retries
 *   included, is shorter), then every run change made before the window began
 *   was applied to X before it began, and none was applied since; the figures
 *   read from the table in the window are therefore exactly those X's
 *   watermarks stand for, and changes made later are applied on top by the
 *   stream as usual (their sequence numbers are above the watermarks, which
 *   the rebuild keeps).
 * - Anything else is "live": retried in the next round, and reported if it
 *   never settles. Nothing is written for it.
 * - Idempotent: an item whose stored figures equal the recomputation is not
 *   written at all, so a second run writes nothing.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { RUN_STATUSES } from '../domain/counters';
import {
  ALL_MODELS,
  addDelta,
  BatchAccumulator,
  emptyDelta,
  type ItemDelta,
  sumContributions,
} from '../domain/deltas';
import { MAX_ERROR_TYPES_PER_ITEM } from '../domain/error-counts';
import type { Granularity } from '../domain/query-range';
import { isPastHorizon } from '../domain/record-age';
import {
  type AggregateKey,
  aggregateKey,
  aggregateKeyOf,
  aggregateSeriesPk,
  decodeAggregateItem,
  type Extents,
  errorTypeOf,
  figuresOf,
  integerOf,
  isWatermarkAttribute,
  itemSizeBytes,
  keyId,
  LISTED_ERRORS_ATTRIBUTE,
  MODELS_PK,
  OTHER_ERRORS_ATTRIBUTE,
  packExtents,
  paddedSequence,
  parseWatermark,
  REBUILT_EXTENTS_ATTRIBUTE,
  VERSION_ATTRIBUTE,
  withoutExtents,
} from './aggregate-keys';
import { registerModel } from './aggregates-store';
import { RUN_INDEX_SHARDS, startShardKey } from './run-item';
import { readStreamRecord } from './stream-records';
import { clearUnwrittenItem, listUnwrittenItems } from './unwritten-items';

/** When an item was last rebuilt (ISO time); readers ignore it. */
const REBUILT_AT_ATTRIBUTE = 'rb';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** Runs summed per BatchAccumulator, so memory follows the items, not the runs. */
const CHUNK = 1_000;

interface RebuildTables {
  readonly client: DynamoDBClient;
  readonly executionsTable: string;
  readonly aggregatesTable: string;
  /** The Executions index keyed by start day. @default 'byStartTime' */
  readonly indexName?: string;
}

export interface RebuildOptions extends RebuildTables {
  /** UTC days `YYYY-MM-DD`, in order. */
  readonly days: readonly string[];
  /** The quiet window an item must pass before it is written; longer than the stream's lag. */
  readonly settleMs: number;
  /** Settle rounds per day before the items still changing are given up on. */
  readonly rounds: number;
  /** Report differences, write nothing. */
  readonly checkOnly?: boolean;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch ms that watermarks are aged by; tests pass one past the horizon. @default Date.now */
  readonly now?: () => number;
}

/**
 * What a rebuild writes into an item: its number attributes and extents,
 * from figuresOf, and every error type's full count (uncapped), which is
 * what a stream-built item's listed types must show.
 */
export interface ItemFigures {
  readonly numbers: ReadonlyMap<string, bigint>;
  readonly extents: Extents;
  /** Ids of the listed error types (`et`). */
  readonly listed: readonly string[];
  readonly errorTotals: ReadonlyMap<string, bigint>;
}

interface ItemTarget {
  readonly key: AggregateKey;
  readonly figures: ItemFigures;
}

export interface DayReport {
  readonly day: string;
  /** Run items read from the index (last read). */
  readonly runs: number;
  /** Items of the index that are not runs (the stream dead-letters them too); not counted. */
  readonly notRuns: number;
  /** Aggregate items whose stored figures equalled the recomputation. */
  readonly unchanged: number;
  /** Aggregate items written (or, with checkOnly, found different). */
  readonly rewritten: readonly string[];
  /** Aggregate items that kept changing: not written; run again later. */
  readonly live: readonly string[];
  /** UNWRITTEN entries of the day cleared (their items are rebuilt). */
  readonly unwrittenCleared: number;
  /** UNWRITTEN entries left (newer than the rebuild, or the day was not finished). */
  readonly unwrittenLeft: number;
  /** Size of the largest item written, in bytes. */
  readonly largestItemBytes: number;
}

const EMPTY: ItemFigures = { numbers: new Map(), extents: {}, listed: [], errorTotals: new Map() };

/** The figures an item holds once exactly `delta` is in it. */
export function rebuiltFigures(delta: ItemDelta): ItemFigures {
  const errorTotals = new Map<string, bigint>();
  for (const [errorType, count] of delta.errors) if (count !== 0) errorTotals.set(errorType, BigInt(count));
  return { ...figuresOf(delta), errorTotals };
}

/** A stable text of figures, to see whether two recomputations agree. */
const canonical = (figures: ItemFigures) =>
  JSON.stringify([
    [...figures.numbers].map(([name, amount]) => [name, amount.toString()]).sort(),
    packExtents(figures.extents),
  ]);

const sameFigures = (a: ItemFigures, b: ItemFigures) => canonical(a) === canonical(b);

const isErrorFigure = (name: string) => errorTypeOf(name) !== undefined || name === OTHER_ERRORS_ATTRIBUTE;

/**
 * How a stored item compares with what `target` says, as the stream writer
 * would have left it: every count equal (zeros as absent); error types that
 * may be listed otherwise than the rebuild ranks them (the stream lists a
 * type when it first comes, while there is room), but each listed one with
 * its full count, no more than the cap, and listed + `eo` = failures; and
 * each status's shortest and longest run exactly those of its runs. Counts
 * that differ are damage (a lost write, an undercount); an extent that only
 * differs is what a corrected or deleted run leaves, since a write can
 * widen an extent but never narrow it.
 */
type Comparison = 'same' | 'extent only' | 'counts';

function compareFigures(item: Record<string, AttributeValue> | undefined, target: ItemFigures): Comparison {
  if (item === undefined) return target.numbers.size === 0 ? 'same' : 'counts';
  const stored = new Map<string, bigint>();
  const listed = new Map<string, bigint>();
  for (const [name, value] of Object.entries(item)) {
    if (value.N === undefined) continue;
    const amount = integerOf(value.N);
    const errorType = errorTypeOf(name);
    if (errorType !== undefined) listed.set(errorType, amount);
    else if (amount !== 0n) stored.set(name, amount);
  }
  for (const [name, amount] of target.numbers)
    if (!isErrorFigure(name) && stored.get(name) !== amount) return 'counts';
  for (const name of stored.keys()) if (!isErrorFigure(name) && !target.numbers.has(name)) return 'counts';
  if (listed.size > MAX_ERROR_TYPES_PER_ITEM) return 'counts';
  let failures = stored.get(OTHER_ERRORS_ATTRIBUTE) ?? 0n;
  for (const [errorType, count] of listed) {
    if ((target.errorTotals.get(errorType) ?? 0n) !== count) return 'counts';
    failures += count;
  }
  let targetFailures = 0n;
  for (const count of target.errorTotals.values()) targetFailures += count;
  if (failures !== targetFailures) return 'counts';
  const extents = decodeAggregateItem(item).byStatus;
  const exact = RUN_STATUSES.every((status) => {
    const want = target.extents[status];
    const have = extents[status].extent;
    return want === undefined
      ? have === undefined
      : have !== undefined && have.minMs === want.minMs && have.maxMs === want.maxMs;
  });
  return exact ? 'same' : 'extent only';
}

/** Every item of the day `day` in the index: its RUN_INDEX_SHARDS partitions, one after the other. */
async function* runsOfDay(
  tables: RebuildTables,
  day: string,
): AsyncGenerator<Record<string, AttributeValue>> {
  for (let shard = 0; shard < RUN_INDEX_SHARDS; shard++) {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await tables.client.send(
        new QueryCommand({
          TableName: tables.executionsTable,
          IndexName: tables.indexName ?? 'byStartTime',
          KeyConditionExpression: 'startShard = :part',
          ExpressionAttributeValues: { ':part': { S: startShardKey(day, shard) } },
          ExclusiveStartKey: startKey,
        }),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

/**
 * The figures of every hour and day item of `day`, recomputed from its runs
 * by the handler's own code, and the models seen.
 */
async function recomputeDay(
  tables: RebuildTables,
  day: string,
): Promise<{ targets: Map<string, ItemTarget>; models: Set<string>; runs: number; notRuns: number }> {
  const sums = new Map<string, { key: AggregateKey; delta: ItemDelta }>();
  const models = new Set<string>();
  let runs = 0;
  let notRuns = 0;
  let accumulator = new BatchAccumulator();
  let inChunk = 0;
  const flush = () => {
    for (const item of accumulator.pendingItems()) {
      const key = aggregateKeyOf(item);
      const id = keyId(key);
      const sum = sums.get(id) ?? { key, delta: emptyDelta() };
      addDelta(sum.delta, sumContributions(item));
      sums.set(id, sum);
      // The all-models rollup is not a model: it is read beside them (storedItemsOfDay).
      if (item.model !== ALL_MODELS) models.add(item.model);
    }
    accumulator = new BatchAccumulator();
    inChunk = 0;
  };
  for await (const image of runsOfDay(tables, day)) {
    const sequence = String(runs + notRuns + 1);
    const record: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: sequence, NewImage: image as never },
    };
    const { change, poisonReason } = readStreamRecord(record);
    // A run started on `day` sits in that day's partition, so it touches only that day's items.
    if (!change?.newRun || poisonReason !== undefined) {
      notRuns++;
      continue;
    }
    runs++;
    accumulator.add(paddedSequence(sequence), change);
    if (++inChunk >= CHUNK) flush();
  }
  flush();
  const targets = new Map<string, ItemTarget>();
  for (const [id, { key, delta }] of sums) targets.set(id, { key, figures: rebuiltFigures(delta) });
  return { targets, models, runs, notRuns };
}

/** Registered model names (the MODELS partition). */
async function registeredModels(tables: RebuildTables): Promise<Set<string>> {
  const models = new Set<string>();
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await tables.client.send(
      new QueryCommand({
        TableName: tables.aggregatesTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: MODELS_PK } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) if (item.sk?.S) models.add(item.sk.S);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return models;
}

/** The stored hour and day items of `day` for `models`, by keyId (strongly consistent). */
async function storedItemsOfDay(
  tables: RebuildTables,
  day: string,
  models: Iterable<string>,
): Promise<Map<string, Record<string, AttributeValue>>> {
  const items = new Map<string, Record<string, AttributeValue>>();
  const series: [Granularity, string, string, string][] = [];
  for (const model of new Set([ALL_MODELS, ...models])) {
    series.push(['hour', model, `${day}T00`, `${day}T23`], ['day', model, day, day]);
  }
  let next = 0;
  const worker = async () => {
    while (next < series.length) {
      const [granularity, model, from, to] = series[next++] as [Granularity, string, string, string];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await tables.client.send(
          new QueryCommand({
            TableName: tables.aggregatesTable,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': { S: aggregateSeriesPk(granularity, model) },
              ':from': { S: from },
              ':to': { S: to },
            },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? [])
          items.set(keyId(aggregateKey(granularity, model, item.sk?.S ?? '')), item);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return items;
}

/** `pk/sk` of a keyId, for reports. */
const describeKey = (id: string) => id.replace('\u0000', '/');

/** Said of an item whose counts are right and whose shortest or longest run is not. */
export const EXTENT_ONLY = '(counts right; shortest/longest run left by a corrected or deleted run)';

/**
 * The item holding `figures`, with the stored item's keys and watermarks:
 * a PutItem, because a rebuilt item may hold ~1,100 number attributes and an
 * update expression is limited to 4 KB. Watermarks are kept as they were
 * (the stream goes on from them), but those past the horizon at `nowSeconds`
 * (domain/record-age.ts), which no record can reach again and which the
 * stream's next write would remove. Every kept watermark loses its extents:
 * `rx` gets the exact ones from every run of the item, and a shard's extents
 * may hold runs corrected or deleted since (readers widen `rx` by every
 * shard's). The stream's writer conditions on the whole watermark, so its
 * next write fails once, reads the new one back, and widens from there.
 */
function rebuiltItem(
  key: AggregateKey,
  figures: ItemFigures,
  stored: Record<string, AttributeValue> | undefined,
  version: string,
  nowSeconds: number,
): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { pk: { S: key.pk }, sk: { S: key.sk } };
  for (const [name, value] of Object.entries(stored ?? {}))
    if (
      isWatermarkAttribute(name) &&
      value.S !== undefined &&
      !isPastHorizon(parseWatermark(value.S).writtenAt, nowSeconds)
    )
      item[name] = { S: withoutExtents(value.S) };
  for (const [name, amount] of figures.numbers) item[name] = { N: amount.toString() };
  if (figures.listed.length > 0) item[LISTED_ERRORS_ATTRIBUTE] = { SS: [...figures.listed] };
  const extents = packExtents(figures.extents);
  if (extents !== '') item[REBUILT_EXTENTS_ATTRIBUTE] = { S: extents };
  item[VERSION_ATTRIBUTE] = { S: version };
  item[REBUILT_AT_ATTRIBUTE] = { S: new Date().toISOString() };
  return item;
}

/** Writes `item` on condition that the stored one is still as read (`stored`). */
async function writeItem(
  tables: RebuildTables,
  item: Record<string, AttributeValue>,
  stored: Record<string, AttributeValue> | undefined,
): Promise<'written' | 'changed'> {
  const names: Record<string, string> = {};
  const values: Record<string, AttributeValue> = {};
  let condition: string;
  if (stored === undefined) condition = 'attribute_not_exists(pk)';
  else if (stored[VERSION_ATTRIBUTE]?.S !== undefined) {
    condition = '#v = :v0';
    names['#v'] = VERSION_ATTRIBUTE;
    values[':v0'] = { S: stored[VERSION_ATTRIBUTE].S };
  } else {
    condition = 'attribute_exists(pk) AND attribute_not_exists(#v)';
    names['#v'] = VERSION_ATTRIBUTE;
  }
  try {
    await tables.client.send(
      new PutItemCommand({
        TableName: tables.aggregatesTable,
        Item: item,
        ConditionExpression: condition,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );
    return 'written';
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as Error).name === 'ConditionalCheckFailedException'
    )
      return 'changed';
    throw error;
  }
}

/** The days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  if (!DAY.test(from) || !DAY.test(to)) throw new RangeError('days are YYYY-MM-DD');
  const first = Date.parse(`${from}T00:00:00Z`);
  const last = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(first) || Number.isNaN(last)) throw new RangeError('days are YYYY-MM-DD');
  if (last < first) throw new RangeError('--to is before --from');
  const days: string[] = [];
  for (let ms = first; ms <= last; ms += DAY_MS) days.push(new Date(ms).toISOString().slice(0, 10));
  return days;
}

/** The first day whose runs may already have been deleted by TTL (`retentionDays` after the run started). */
export function firstExpiredDay(nowMs: number, retentionDays: number): string {
  return new Date(nowMs - retentionDays * DAY_MS).toISOString().slice(0, 10);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rebuilds (or, with checkOnly, checks) one day; see the module comment for when an item is written. */
export async function rebuildDay(options: RebuildOptions, day: string): Promise<DayReport> {
  const sleep = options.sleep ?? defaultSleep;
  const log = options.log ?? (() => {});
  const rewritten: string[] = [];
  let unchanged = 0;
  let largestItemBytes = 0;
  let pending: Set<string> | undefined; // undefined: every item of the day
  let runs = 0;
  let notRuns = 0;
  let firstRoundStart = '';
  for (let round = 1; round <= options.rounds; round++) {
    const roundStart = new Date().toISOString();
    if (round === 1) firstRoundStart = roundStart;
    const registered = await registeredModels(options);
    const before = await storedItemsOfDay(options, day, registered);
    const first = await recomputeDay(options, day);
    await sleep(options.settleMs);
    const second = await recomputeDay(options, day);
    const after = await storedItemsOfDay(options, day, new Set([...registered, ...second.models]));
    runs = second.runs;
    notRuns = second.notRuns;
    // Models first, as the handler does: counters are never readable before
    // the registry lists their model with this day (a run the stream lost
    // may be the only one that says so).
    if (!options.checkOnly)
      for (const model of second.models)
        await registerModel(
          options.aggregatesTable,
          model,
          { first: day, last: day },
          undefined,
          options.client,
        );
    const ids = new Set([
      ...before.keys(),
      ...after.keys(),
      ...first.targets.keys(),
      ...second.targets.keys(),
    ]);
    const live: string[] = [];
    for (const id of ids) {
      if (pending && !pending.has(id)) continue;
      const target = second.targets.get(id)?.figures ?? EMPTY;
      const settled =
        sameFigures(first.targets.get(id)?.figures ?? EMPTY, target) &&
        before.has(id) === after.has(id) &&
        before.get(id)?.[VERSION_ATTRIBUTE]?.S === after.get(id)?.[VERSION_ATTRIBUTE]?.S;
      if (!settled) {
        live.push(id);
        continue;
      }
      const stored = after.get(id);
      if (stored === undefined && target.numbers.size === 0) continue;
      const comparison = compareFigures(stored, target);
      if (comparison === 'same') {
        unchanged++;
        continue;
      }
      const described = comparison === 'extent only' ? `${describeKey(id)} ${EXTENT_ONLY}` : describeKey(id);
      if (options.checkOnly) {
        rewritten.push(described);
        continue;
      }
      const [pk = '', sk = ''] = id.split('\u0000');
      const version = `rb-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
      const written = rebuiltItem({ pk, sk }, target, stored, version, nowSeconds);
      const outcome = await writeItem(options, written, stored);
      if (outcome === 'changed') {
        live.push(id);
        continue;
      }
      rewritten.push(described);
      largestItemBytes = Math.max(largestItemBytes, itemSizeBytes(written));
    }
    log(
      `${day} round ${round}: ${runs} runs, ${ids.size} items, ${rewritten.length} ${options.checkOnly ? 'differ' : 'rewritten'} so far, ${live.length} still changing`,
    );
    pending = new Set(live);
    if (live.length === 0) break;
  }
  const live = [...(pending ?? [])].map(describeKey);
  // An UNWRITTEN entry older than the first round names changes the recomputation read.
  let unwrittenCleared = 0;
  const entries = await listUnwrittenItems(options.client, options.aggregatesTable, day);
  if (!options.checkOnly && live.length === 0) {
    for (const entry of entries) {
      if (entry.at >= firstRoundStart) continue;
      await clearUnwrittenItem(options.client, options.aggregatesTable, entry.sk);
      unwrittenCleared++;
    }
  }
  return {
    day,
    runs,
    notRuns,
    unchanged,
    rewritten,
    live,
    unwrittenCleared,
    unwrittenLeft: entries.length - unwrittenCleared,
    largestItemBytes,
  };
}
