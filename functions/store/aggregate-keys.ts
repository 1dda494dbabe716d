/**
 * Layout of the Aggregates table: keys and attribute names. Pure functions,
 * shared by the stream handler that writes and the query handler that reads.
 *
 *   aggregates  pk = A#<H|D>#<model>   sk = <hour `2026-11-01T13` | day `2026-11-01`>
 *   rollup      pk = A#<H|D>#          sk = the same (all models together)
 *   models      pk = MODELS            sk = <model>
 *
 * One item per (bucket, model) holds both statuses and every error type.
 * That is what makes a batch cheap: a batch of 100 runs over 5 models touches
 * 5 hour items and 5 day items, plus the rollup's hour and day item, i.e. 12
 * UpdateItems (0.12 per run). One item per (bucket, model, status) plus one
 * per error type would be 20 + ~20. The rollup item of a bucket is the sum
 * of its models' items without their error types (domain/deltas.ts,
 * ALL_MODELS).
 * A series (one pk) holds one item per bucket, so a time range of a model is
 * one Query with `sk BETWEEN`.
 *
 * Attributes (names are short because an update is charged per KB of item).
 * Every figure is packed into three strings, because DynamoDB Local spends
 * ~10 µs per stored attribute on every read: one attribute per figure and
 * histogram bucket (up to ~800 in a busy day item) made a 30-day dashboard
 * read take hundreds of milliseconds. Strings cannot be ADDed to, so the
 * writer merges them under the version `v` (see aggregates-store.ts).
 *
 *   c         counters and error counts (S): a JSON object of name → decimal
 *             string, with the names below (`{"e:Timeout":"2","sn":"40",…}`)
 *   hs / hf   duration histogram of successful / failed runs (S, see
 *             packed-histogram.ts)
 *   w:<shard> exactly-once watermark (S), see aggregates-store.ts
 *   v         version (S), a new random token on every write
 *
 * Names inside `c`:
 *
 *   s<code> / f<code>   counter of successful / failed runs, code of the
 *                       counter table (domain/counters.ts): `sn` executions
 *   sq<mm> / fq<mm>     runs that started in minute mm (00–59) of the hour
 *                       (hour items only; what GET /api/alarm reads)
 *   smn / fmn, smx / fmx  shortest / longest duration in ms (see Extent in
 *                       sketch.ts); merged by min / max, never summed
 *   e:<errorType>       failed runs with that error type, at most
 *                       MAX_ERROR_TYPES_PER_ITEM of them (domain/error-counts.ts)
 *   eo                  failed runs of the error types not listed
 *
 * The counter codes (`n` executions, `c` costNanos, …) are those of the
 * counter table, domain/counters.ts. This module is the only one that knows
 * these names: the domain hands over typed deltas (domain/deltas.ts) and
 * gets typed figures back.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  COUNTER_NAMES,
  COUNTERS,
  type CounterName,
  type Counters,
  emptyCounters,
  RUN_STATUSES,
  type RunStatus,
  withStatusCounts,
} from '../domain/counters';
import type { ItemDelta, PendingItem } from '../domain/deltas';
import { addErrorCounts } from '../domain/error-counts';
import type { Granularity } from '../domain/query-range';
import type { Extent, Histogram } from '../domain/sketch';
import { unpackHistogram } from './packed-histogram';

export const MODELS_PK = 'MODELS';
export const DAY_KEY_LENGTH = 10; // 2026-11-01

const granularityCode = (granularity: Granularity) => (granularity === 'hour' ? 'H' : 'D');

export interface AggregateKey {
  readonly pk: string;
  readonly sk: string;
}

/**
 * The partition key of one model's hour or day series; of the all-models
 * rollup for ALL_MODELS (`A#H#`: no model is empty, so no model's series
 * is that one).
 */
export function aggregateSeriesPk(granularity: Granularity, model: string): string {
  return `A#${granularityCode(granularity)}#${model}`;
}

export function aggregateKey(granularity: Granularity, model: string, bucket: string): AggregateKey {
  return { pk: aggregateSeriesPk(granularity, model), sk: bucket };
}

/** The key of a batch's pending item. */
export function aggregateKeyOf(item: Pick<PendingItem, 'granularity' | 'model' | 'bucket'>): AggregateKey {
  return aggregateKey(item.granularity, item.model, item.bucket);
}

/** A stable string for a key, for use in Maps. */
export function keyId(key: AggregateKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

/** The stored counters (those with a code) and their codes, from the counter table. */
const STORED_COUNTERS = COUNTER_NAMES.flatMap((name): [CounterName, string][] => {
  const code = COUNTERS[name].code;
  return code === null ? [] : [[name, code]];
});

const STATUS_PREFIX = { success: 's', failure: 'f' } as const satisfies Record<RunStatus, string>;
const ERROR_PREFIX = 'e:';
/** Failed runs whose error type is not listed; no `e:` name can be it. */
const OTHER_ERRORS_NAME = 'eo';
const WATERMARK_PREFIX = 'w:';
export const VERSION_ATTRIBUTE = 'v';
export const COUNTERS_ATTRIBUTE = 'c';
/** The attribute holding one status's packed histogram. */
export const HISTOGRAM_ATTRIBUTES = { success: 'hs', failure: 'hf' } as const satisfies Record<
  RunStatus,
  string
>;

/** Names of counters, extents, minutes and error types in `c` or a batch's additions → amount. */
export type NamedAmounts = Map<string, number | bigint>;

/**
 * A batch's typed delta in the item's names: what merges into the packed
 * counters `c` (counters, extents, minutes, error types; zero counts left
 * out) and the histogram deltas that merge into `hs` / `hf`.
 */
export function encodeDelta(delta: ItemDelta): {
  readonly additions: NamedAmounts;
  readonly histograms: Record<RunStatus, Histogram>;
} {
  const additions: NamedAmounts = new Map();
  const histograms: Record<RunStatus, Histogram> = { success: new Map(), failure: new Map() };
  for (const status of RUN_STATUSES) {
    const part = delta.byStatus[status];
    const prefix = STATUS_PREFIX[status];
    for (const [counter, code] of STORED_COUNTERS) {
      const value = part.counters[counter];
      if (value !== 0 && value !== 0n) additions.set(`${prefix}${code}`, value);
    }
    if (part.extent !== undefined) {
      additions.set(extremumAttribute(status, 'min'), part.extent.minMs);
      additions.set(extremumAttribute(status, 'max'), part.extent.maxMs);
    }
    for (const [minute, count] of part.perMinute)
      if (count !== 0) additions.set(minuteAttribute(status, minute), count);
    for (const [bucket, count] of part.histogram) if (count !== 0) histograms[status].set(bucket, count);
  }
  for (const [errorType, count] of delta.errors)
    if (count !== 0) additions.set(errorAttribute(errorType), count);
  return { additions, histograms };
}

const EXTREMUM_CODES = { min: 'mn', max: 'mx' } as const;

/** The name of a status's shortest (`min`) or longest (`max`) duration. */
function extremumAttribute(status: RunStatus, which: 'min' | 'max'): string {
  return `${STATUS_PREFIX[status]}${EXTREMUM_CODES[which]}`;
}

/** Whether a name holds a shortest or longest duration, which merge by min or max, not by sum. */
function extremumOf(name: string): 'min' | 'max' | undefined {
  if (name.length !== 3 || (name[0] !== 's' && name[0] !== 'f')) return undefined;
  const code = name.slice(1);
  return code === EXTREMUM_CODES.min ? 'min' : code === EXTREMUM_CODES.max ? 'max' : undefined;
}

/** Combines two amounts of one name: min or max for an extremum, else their sum. */
function combineAmounts<T extends number | bigint>(name: string, a: T, b: T): T {
  const extremum = extremumOf(name);
  if (extremum === 'min') return a < b ? a : b;
  if (extremum === 'max') return a > b ? a : b;
  return ((a as bigint) + (b as bigint)) as T;
}

const MINUTE_CODE = 'q';

/** The name of a status's run count for minute `minute` (0–59) of an hour item. */
function minuteAttribute(status: RunStatus, minute: number): string {
  return `${STATUS_PREFIX[status]}${MINUTE_CODE}${String(minute).padStart(2, '0')}`;
}

function minuteOf(name: string): number | undefined {
  if (name.length !== 4 || name[1] !== MINUTE_CODE) return undefined;
  const minute = Number(name.slice(2));
  return Number.isInteger(minute) && minute >= 0 && minute < 60 ? minute : undefined;
}

function errorAttribute(errorType: string): string {
  return `${ERROR_PREFIX}${errorType}`;
}

/**
 * Name of the per-shard watermark attribute. Shard ids are 28–65 characters of
 * `[A-Za-z0-9-]`; the `w:` prefix keeps them clear of counter names.
 */
export function watermarkAttribute(shardId: string): string {
  return `${WATERMARK_PREFIX}${shardId}`;
}

/**
 * Sequence numbers are 21–40 digit decimal strings; padded to 40 they compare
 * as strings the way they compare as numbers, which is what a DynamoDB
 * condition expression can do.
 */
export function paddedSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(40, '0');
}

/** What one status holds in an aggregate item. */
interface StatusFigures {
  readonly counters: Readonly<Counters>;
  readonly histogram: ReadonlyMap<string, number>;
  readonly extent?: Extent;
}

/** An aggregate item, read back into figures. */
export interface DecodedAggregate {
  readonly byStatus: Record<RunStatus, StatusFigures>;
  /** Error type → failed runs (zero counts left out). */
  readonly errors: ReadonlyMap<string, number>;
  /** Failed runs whose type the item does not list; listed + this = failures. */
  readonly otherErrors: number;
  /** Runs by the minute of the hour they started in (hour items only): minute → count. */
  readonly perMinute: Record<RunStatus, ReadonlyMap<number, number>>;
}

const CODE_TO_COUNTER = new Map(STORED_COUNTERS.map(([counter, code]) => [code, counter]));

/**
 * Reads an item's figures (name → decimal string, the names of `c`; a name
 * may come more than once, its amounts add up) and its packed histograms
 * into per-status counters and histograms and per-type error counts. Names
 * it does not know are ignored.
 */
function decodeAggregate(
  numbers: Iterable<[string, string]>,
  packedHistograms: Partial<Record<RunStatus, string>> = {},
): DecodedAggregate {
  const byStatus: Record<RunStatus, { counters: Counters; histogram: Histogram; extent?: Extent }> = {
    success: { counters: emptyCounters(), histogram: new Map() },
    failure: { counters: emptyCounters(), histogram: new Map() },
  };
  const extremes: Record<RunStatus, { min?: number; max?: number }> = { success: {}, failure: {} };
  const perMinute: Record<RunStatus, Map<number, number>> = { success: new Map(), failure: new Map() };
  const errors = new Map<string, number>();
  let otherErrors = 0;
  for (const [name, value] of numbers) {
    if (name === OTHER_ERRORS_NAME) {
      otherErrors += Number(value);
      continue;
    }
    if (name.startsWith(ERROR_PREFIX)) {
      const errorType = name.slice(ERROR_PREFIX.length);
      errors.set(errorType, (errors.get(errorType) ?? 0) + Number(value));
      continue;
    }
    const status: RunStatus | undefined =
      name[0] === 's' ? 'success' : name[0] === 'f' ? 'failure' : undefined;
    if (status === undefined) continue;
    const minute = minuteOf(name);
    if (minute !== undefined) {
      perMinute[status].set(minute, (perMinute[status].get(minute) ?? 0) + Number(value));
      continue;
    }
    const extremum = extremumOf(name);
    if (extremum !== undefined) {
      const known = extremes[status][extremum];
      extremes[status][extremum] =
        known === undefined ? Number(value) : combineAmounts(name, known, Number(value));
      continue;
    }
    const counter = CODE_TO_COUNTER.get(name.slice(1));
    if (counter === undefined) continue;
    const counters = byStatus[status].counters as Record<CounterName, number | bigint>;
    const before = counters[counter];
    counters[counter] = typeof before === 'bigint' ? before + BigInt(value) : before + Number(value);
  }
  for (const [errorType, count] of errors) if (count === 0) errors.delete(errorType);
  for (const status of RUN_STATUSES) {
    const histogram = byStatus[status].histogram;
    unpackHistogram(packedHistograms[status] ?? '', histogram);
    for (const [bucket, count] of histogram) if (count === 0) histogram.delete(bucket);
  }
  for (const status of RUN_STATUSES) {
    const { min, max } = extremes[status];
    if (min !== undefined && max !== undefined) byStatus[status].extent = { minMs: min, maxMs: max };
  }
  for (const status of RUN_STATUSES) withStatusCounts(status, byStatus[status].counters);
  return { byStatus, errors, otherErrors, perMinute };
}

/** The packed histograms of a stored item, by status. */
export function packedHistogramsOf(item: Record<string, AttributeValue>): Partial<Record<RunStatus, string>> {
  return {
    success: item[HISTOGRAM_ATTRIBUTES.success]?.S,
    failure: item[HISTOGRAM_ATTRIBUTES.failure]?.S,
  };
}

/**
 * The packed counters (`c`) after adding a batch's additions: counters add
 * up; error types go through addErrorCounts, so an item never lists more
 * than MAX_ERROR_TYPES_PER_ITEM of them. Zero amounts are left out.
 */
export function mergeCounters(
  known: ReadonlyMap<string, bigint>,
  additions: NamedAmounts,
): Map<string, bigint> {
  const merged = new Map<string, bigint>();
  const errors = { byType: new Map<string, bigint>(), other: 0n };
  for (const [name, amount] of known) {
    if (name === OTHER_ERRORS_NAME) errors.other += amount;
    else if (name.startsWith(ERROR_PREFIX)) errors.byType.set(name.slice(ERROR_PREFIX.length), amount);
    else merged.set(name, amount);
  }
  const errorDeltas: [string, bigint][] = [];
  for (const [name, amount] of additions) {
    if (name.startsWith(ERROR_PREFIX)) errorDeltas.push([name.slice(ERROR_PREFIX.length), BigInt(amount)]);
    else {
      const before = merged.get(name);
      merged.set(name, before === undefined ? BigInt(amount) : combineAmounts(name, before, BigInt(amount)));
    }
  }
  addErrorCounts(errors, errorDeltas);
  for (const [errorType, count] of errors.byType) merged.set(errorAttribute(errorType), count);
  merged.set(OTHER_ERRORS_NAME, errors.other);
  for (const [name, amount] of merged)
    if (amount === 0n && extremumOf(name) === undefined) merged.delete(name);
  return merged;
}

/** The packed counters (`c`) as a map of name → amount. */
export function packCounters(counters: ReadonlyMap<string, bigint>): string {
  const entries = [...counters].filter(([, amount]) => amount !== 0n).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(Object.fromEntries(entries.map(([name, amount]) => [name, amount.toString()])));
}

const DECIMAL = /^-?\d+$/;

/** Reads packCounters' format as [name, decimal string]; entries that are not a decimal string are skipped. */
export function unpackCounters(packed: string | undefined): [string, string][] {
  if (packed === undefined || packed === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  return Object.entries(parsed).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && DECIMAL.test(entry[1]),
  );
}

/** decodeAggregate of a stored item, as a Query or BatchGetItem returns it. */
export function decodeAggregateItem(item: Record<string, AttributeValue>): DecodedAggregate {
  return decodeAggregate(unpackCounters(item[COUNTERS_ATTRIBUTE]?.S), packedHistogramsOf(item));
}

/**
 * An item's size as DynamoDB counts it for the 400 KB limit and for write
 * units: the UTF-8 bytes of every attribute name and string value, about one
 * byte per two digits of a number (an upper bound: 21 bytes at most).
 */
export function itemSizeBytes(item: Record<string, AttributeValue>): number {
  const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += utf8(name);
    if (value.S !== undefined) bytes += utf8(value.S);
    else if (value.N !== undefined)
      bytes += Math.min(21, Math.ceil(value.N.replace(/^-/, '').length / 2) + 1);
    else bytes += utf8(JSON.stringify(value));
  }
  return bytes;
}
