/**
 * Layout of the Aggregates table: keys and attribute names. Pure functions,
 * shared by the stream handler that writes and the query handler that reads.
 *
 *   aggregates  pk = A#<H|D>#<model>   sk = <hour `2026-11-01T13` | day `2026-11-01`>
 *   rollup      pk = A#<H|D>#          sk = the same (all models together)
 *   models      pk = MODELS            sk = <model>   f, l: first and last UTC day
 *                                                     with runs (S, `2026-11-01`)
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
 * Attributes (names are short: an update is charged per KB of item). Every
 * count is a number attribute that writers ADD to, so writes of concurrent
 * stream shards commute and never fail each other's condition (ADR 0001,
 * Decision 1b; aggregates-store.ts):
 *
 *   s<code> / f<code>   counter of successful / failed runs (N), code of the
 *                       counter table (domain/counters.ts): `sn` executions
 *   sq<mm> / fq<mm>     runs that started in minute mm (00–59) of the hour
 *                       (N, hour items only; what GET /api/alarm reads)
 *   sh<i> / fh<i>       runs in duration bucket i of the histogram (N, `shz`
 *                       the zero bucket; domain/sketch.ts)
 *   e:<errorType>       failed runs with that error type (N), at most
 *                       MAX_ERROR_TYPES_PER_ITEM of them (domain/error-counts.ts)
 *   eo                  failed runs of the error types not listed (N)
 *   et                  the listed error types, as a set of 8-character ids
 *                       (SS, listedErrorId): what bounds them; ADDing an id
 *                       already in it changes nothing
 *   w:<shard>           exactly-once watermark of one stream shard (S):
 *                       `<padded sequence>@<epoch seconds it was written>`
 *                       then, after `;`, the shortest and longest duration of
 *                       the runs that shard added (`smn,smx,fmn,fmx`, see
 *                       Extent in sketch.ts). Only that shard's writer sets
 *                       it; another shard's writer removes it once it is
 *                       past the horizon (domain/record-age.ts), folding its
 *                       extents into `rx`. Readers take the min / max over
 *                       every watermark and `rx`
 *   rx                  extents no watermark carries (S, `smn,smx,fmn,fmx`):
 *                       those a rebuild recomputed, widened by those of the
 *                       watermarks removed since
 *   v                   change token (S): a new random value on every write,
 *                       never a condition of the stream writer; the rebuild
 *                       and the reader's decode cache compare it
 *
 * The counter codes (`n` executions, `c` costNanos, …) are those of the
 * counter table, domain/counters.ts. This module is the only one that knows
 * these names: the domain hands over typed deltas (domain/deltas.ts) and
 * gets typed figures back.
 */
import { createHash } from 'node:crypto';
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
import type { RegisteredModel } from '../domain/models';
import type { Granularity } from '../domain/query-range';
import { BUCKET_PREFIX, type Extent, type Histogram, widenExtent, ZERO_BUCKET } from '../domain/sketch';

/**
 * The item layout above, numbered. Items written under another layout are not
 * read by this one (the packed strings of layout 1 decode as zero), so a store
 * kept across a layout change is recounted with `npm run rebuild` (README,
 * "Upgrading"); the dashboard bench names its kept store by it.
 * 1: figures packed into strings, merged under a version; 2: number attributes
 * that writers ADD (ADR 0001, Decision 1b). Within layout 2, watermarks
 * written before they carried a time (`<sequence>;<extents>`) are read as
 * valid and are never removed by age (parseWatermark): no rebuild is needed.
 */
export const AGGREGATE_LAYOUT = 2;
export const MODELS_PK = 'MODELS';
/** A registered model's first and last UTC day with runs (domain/models.ts, RegisteredModel). */
export const MODEL_FIRST_DAY_ATTRIBUTE = 'f';
export const MODEL_LAST_DAY_ATTRIBUTE = 'l';

/** A registry item (`pk = MODELS`) read back; a day that is not a day key reads as unknown. */
export function registeredModelOf(item: Record<string, AttributeValue>): RegisteredModel {
  const day = (name: string) => {
    const value = item[name]?.S;
    return value !== undefined && DAY_KEY.test(value) ? value : undefined;
  };
  const first = day(MODEL_FIRST_DAY_ATTRIBUTE);
  const last = day(MODEL_LAST_DAY_ATTRIBUTE);
  return {
    model: item.sk?.S ?? '',
    ...(first === undefined ? {} : { first }),
    ...(last === undefined ? {} : { last }),
  };
}
const DAY_KEY = /^\d{4}-\d{2}-\d{2}$/;
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
const MINUTE_CODE = 'q';
const HISTOGRAM_CODE = 'h';
// A counter code sits beside the minute and histogram names of its status:
// one starting with their letter would be read as a minute or a bucket.
for (const [counter, code] of STORED_COUNTERS)
  if (code === '' || code.startsWith(MINUTE_CODE) || code.startsWith(HISTOGRAM_CODE))
    throw new Error(`counter ${counter}: code '${code}' is empty or starts with a reserved letter (q, h)`);

const ERROR_PREFIX = 'e:';
/** Failed runs whose error type is not listed; no `e:` name can be it. */
export const OTHER_ERRORS_ATTRIBUTE = 'eo';
/** The ids of the `e:` types an item lists (a string set): the cap's condition reads its size. */
export const LISTED_ERRORS_ATTRIBUTE = 'et';

/**
 * A short id of an error type for `et`: 8 characters (48 bits) of its
 * SHA-256, so that the set stays small whatever the types' length. Two
 * types that share an id would let an item list one type past the cap.
 */
export function listedErrorId(errorType: string): string {
  return createHash('sha256').update(errorType).digest('base64url').slice(0, 8);
}
const WATERMARK_PREFIX = 'w:';
export const VERSION_ATTRIBUTE = 'v';
export const REBUILT_EXTENTS_ATTRIBUTE = 'rx';

/** Shortest and longest durations by status (a status without added runs has none). */
export type Extents = Partial<Record<RunStatus, Extent>>;

function minuteAttribute(status: RunStatus, minute: number): string {
  return `${STATUS_PREFIX[status]}${MINUTE_CODE}${String(minute).padStart(2, '0')}`;
}

/** `d412` → `sh412`, `dz` → `shz`. */
function histogramAttribute(status: RunStatus, bucket: string): string {
  const index = bucket === ZERO_BUCKET ? 'z' : bucket.slice(BUCKET_PREFIX.length);
  return `${STATUS_PREFIX[status]}${HISTOGRAM_CODE}${index}`;
}

export function errorAttribute(errorType: string): string {
  return `${ERROR_PREFIX}${errorType}`;
}

/** The error type an attribute name counts, if it is one. */
export function errorTypeOf(name: string): string | undefined {
  return name.startsWith(ERROR_PREFIX) ? name.slice(ERROR_PREFIX.length) : undefined;
}

/**
 * What a delta ADDs to an item's number attributes: counters, minutes and
 * histogram buckets of both statuses, zeros left out. Error types are not
 * among them: their cap needs the item (aggregates-store.ts).
 */
export function additionsOf(delta: ItemDelta): Map<string, bigint> {
  const additions = new Map<string, bigint>();
  const add = (name: string, amount: number | bigint) => {
    if (amount !== 0 && amount !== 0n) additions.set(name, BigInt(amount));
  };
  for (const status of RUN_STATUSES) {
    const part = delta.byStatus[status];
    for (const [counter, code] of STORED_COUNTERS)
      add(`${STATUS_PREFIX[status]}${code}`, part.counters[counter]);
    for (const [minute, count] of part.perMinute) add(minuteAttribute(status, minute), count);
    for (const [bucket, count] of part.histogram) add(histogramAttribute(status, bucket), count);
  }
  return additions;
}

/** The extents of the runs a delta adds. */
export function extentsOf(delta: ItemDelta): Extents {
  const extents: Extents = {};
  for (const status of RUN_STATUSES) {
    const extent = delta.byStatus[status].extent;
    if (extent !== undefined) extents[status] = extent;
  }
  return extents;
}

export function widenExtents(a: Extents, b: Extents): Extents {
  const widened: Extents = {};
  for (const status of RUN_STATUSES) {
    const extent = widenExtent(a[status], b[status]);
    if (extent !== undefined) widened[status] = extent;
  }
  return widened;
}

/** `smn,smx,fmn,fmx` in ms, empty where a status has none; '' when neither has. */
export function packExtents(extents: Extents): string {
  if (RUN_STATUSES.every((status) => extents[status] === undefined)) return '';
  return RUN_STATUSES.map((status) => {
    const extent = extents[status];
    return extent === undefined ? ',' : `${extent.minMs},${extent.maxMs}`;
  }).join(',');
}

const MILLISECONDS = /^\d{1,16}$/;

/** The extents `packExtents` wrote (malformed parts read as none). */
export function parseExtents(packed: string | undefined): Extents {
  const extents: Extents = {};
  const parts = (packed ?? '').split(',');
  for (const [index, status] of RUN_STATUSES.entries()) {
    const min = parts[2 * index] ?? '';
    const max = parts[2 * index + 1] ?? '';
    if (MILLISECONDS.test(min) && MILLISECONDS.test(max))
      extents[status] = { minMs: Number(min), maxMs: Number(max) };
  }
  return extents;
}

/**
 * Name of the per-shard watermark attribute. Shard ids are 28–65 characters of
 * `[A-Za-z0-9-]`; the `w:` prefix keeps them clear of counter names.
 */
export function watermarkAttribute(shardId: string): string {
  return `${WATERMARK_PREFIX}${shardId}`;
}

/** Whether an attribute is a shard's watermark (`w:<shard>`). */
export function isWatermarkAttribute(name: string): boolean {
  return name.startsWith(WATERMARK_PREFIX);
}

/**
 * Sequence numbers are 21–40 digit decimal strings; padded to 40 they compare
 * as strings the way they compare as numbers.
 */
export function paddedSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(40, '0');
}

/** A watermark as read: what the item absorbed of a shard, when, and the extents that shard added. */
export interface Watermark {
  /** The highest padded sequence number applied; absent for no watermark. */
  readonly sequence?: string;
  /** Epoch seconds of the write that set it; absent in watermarks from before times were kept. */
  readonly writtenAt?: number;
  readonly extents: Extents;
}

const TIME_SEPARATOR = '@';
const EPOCH_SECONDS = /^\d{1,12}$/;

/**
 * A shard's watermark value: its padded sequence, `@` and the epoch seconds
 * of this write (what lets another writer tell it is past the horizon), then
 * `;` and the extents of the runs it added. The time sits after the sequence
 * so that code which reads everything before `;` as the sequence (the writer
 * before times were kept, should it be deployed again) still compares it
 * right: the 40 padded digits decide, and `X@t` sorts just after `X`.
 */
export function watermarkValue(sequence: string, writtenAtSeconds: number, extents: Extents): string {
  const packed = packExtents(extents);
  const head = `${sequence}${TIME_SEPARATOR}${Math.floor(writtenAtSeconds)}`;
  return packed === '' ? head : `${head};${packed}`;
}

/** The same watermark (sequence and time) without the extents it carries. */
export function withoutExtents(value: string): string {
  const separator = value.indexOf(';');
  return separator < 0 ? value : value.slice(0, separator);
}

/**
 * Reads a watermark, also one without a time (`<sequence>[;<extents>]`,
 * written before watermarks carried one): its sequence and extents stand,
 * and without `writtenAt` it is never removed by age (domain/record-age.ts).
 * A time that is not a number of seconds is read as none, for the same reason.
 */
export function parseWatermark(value: string | undefined): Watermark {
  if (value === undefined) return { extents: {} };
  const head = withoutExtents(value);
  const extents = head.length < value.length ? parseExtents(value.slice(head.length + 1)) : {};
  const at = head.indexOf(TIME_SEPARATOR);
  if (at < 0) return { sequence: head, extents };
  const time = head.slice(at + 1);
  return {
    sequence: head.slice(0, at),
    ...(EPOCH_SECONDS.test(time) ? { writtenAt: Number(time) } : {}),
    extents,
  };
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

const SCIENTIFIC = /^(-?)(\d+)(?:\.(\d+))?[eE]\+?(\d+)$/;

/** A stored integer as a bigint, also in the `1.5E+3` form a number may come back in. */
export function integerOf(text: string): bigint {
  const scientific = SCIENTIFIC.exec(text);
  if (!scientific) return BigInt(text);
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = scientific;
  const digits = `${whole}${fraction}`.padEnd(whole.length + Number(exponent), '0');
  return BigInt(`${sign}${digits.slice(0, whole.length + Number(exponent))}`);
}

/**
 * A stored item's figures: per-status counters, histograms, minutes and
 * extents (the widest over every shard's watermark and the rebuild's), and
 * the error counts. Attributes it does not know are ignored.
 */
export function decodeAggregateItem(item: Record<string, AttributeValue>): DecodedAggregate {
  const byStatus: Record<RunStatus, { counters: Counters; histogram: Histogram; extent?: Extent }> = {
    success: { counters: emptyCounters(), histogram: new Map() },
    failure: { counters: emptyCounters(), histogram: new Map() },
  };
  const perMinute: Record<RunStatus, Map<number, number>> = { success: new Map(), failure: new Map() };
  const errors = new Map<string, number>();
  let extents: Extents = {};
  let otherErrors = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) {
      if (isWatermarkAttribute(name)) extents = widenExtents(extents, parseWatermark(value.S).extents);
      else if (name === REBUILT_EXTENTS_ATTRIBUTE) extents = widenExtents(extents, parseExtents(value.S));
      continue;
    }
    const amount = value.N;
    if (amount === undefined) continue;
    if (name === OTHER_ERRORS_ATTRIBUTE) {
      otherErrors += Number(amount);
      continue;
    }
    const errorType = errorTypeOf(name);
    if (errorType !== undefined) {
      if (Number(amount) !== 0) errors.set(errorType, Number(amount));
      continue;
    }
    const status: RunStatus | undefined =
      name[0] === 's' ? 'success' : name[0] === 'f' ? 'failure' : undefined;
    if (status === undefined) continue;
    const code = name.slice(1);
    if (code[0] === MINUTE_CODE) {
      const minute = Number(code.slice(1));
      if (code.length === 3 && Number.isInteger(minute) && minute >= 0 && minute < 60 && Number(amount) !== 0)
        perMinute[status].set(minute, Number(amount));
      continue;
    }
    if (code[0] === HISTOGRAM_CODE) {
      const index = code.slice(1);
      if (Number(amount) !== 0)
        byStatus[status].histogram.set(
          index === 'z' ? ZERO_BUCKET : `${BUCKET_PREFIX}${index}`,
          Number(amount),
        );
      continue;
    }
    const counter = CODE_TO_COUNTER.get(code);
    if (counter === undefined) continue;
    const counters = byStatus[status].counters as Record<CounterName, number | bigint>;
    counters[counter] = typeof counters[counter] === 'bigint' ? integerOf(amount) : Number(amount);
  }
  for (const status of RUN_STATUSES) {
    const extent = extents[status];
    if (extent !== undefined) byStatus[status].extent = extent;
    withStatusCounts(status, byStatus[status].counters);
  }
  return { byStatus, errors, otherErrors, perMinute };
}

/**
 * What an item holds once exactly `delta` is in it: its number attributes
 * (zeros left out; error types capped as addErrorCounts ranks them, the rest
 * in `eo`), the ids of the listed types (`et`) and the extents. The rebuild
 * writes and compares this.
 */
export function figuresOf(delta: ItemDelta): {
  numbers: Map<string, bigint>;
  extents: Extents;
  listed: string[];
} {
  const numbers = additionsOf(delta);
  const errors = addErrorCounts(
    { byType: new Map(), other: 0n },
    [...delta.errors].map(([errorType, count]): [string, bigint] => [errorType, BigInt(count)]),
  );
  for (const [errorType, count] of errors.byType) numbers.set(errorAttribute(errorType), count);
  if (errors.other !== 0n) numbers.set(OTHER_ERRORS_ATTRIBUTE, errors.other);
  const listed = [...new Set([...errors.byType.keys()].map(listedErrorId))];
  return { numbers, extents: extentsOf(delta), listed };
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
