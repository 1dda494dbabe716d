/**
 * Layout of the Aggregates table: keys and attribute names. Pure functions,
 * shared by the stream handler that writes and the query handler that reads.
 *
 *   aggregates  pk = A#<H|D>#<model>   sk = <hour `2026-11-01T13` | day `2026-11-01`>
 *   models      pk = MODELS            sk = <model>
 *
 * One item per (bucket, model) holds both statuses and every error type.
 * That is what makes a batch cheap: a batch of 100 runs over 5 models touches
 * 5 hour items and 5 day items, i.e. 10 UpdateItems (0.1 per run). One item
 * per (bucket, model, status) plus one per error type would be 20 + ~20.
 * A series (one pk) holds one item per bucket, so a time range of a model is
 * one Query with `sk BETWEEN`.
 *
 * Attributes (names are short because an update is charged per KB of item):
 *
 *   s<code> / f<code>   counter of successful / failed runs, code below
 *   s<d…> / f<d…>       duration histogram bucket (`sd412`, `fdz`; see sketch.ts)
 *   e:<errorType>       failed runs with that error type
 *   w:<shardId>         exactly-once watermark (S), see aggregates-store.ts
 *
 *   code  n executions   c costNanos   u unknownCostRuns   i inputTokens
 *         o outputTokens r cacheReadTokens w cacheWriteTokens l llmCalls
 *         t toolCalls    f filesModified (successful runs) ms durationMsSum
 */
import { type Counters, emptyCounters } from '../domain/deltas';
import { type Histogram, isBucketAttribute } from '../domain/sketch';

export type Granularity = 'hour' | 'day';
export type RunStatus = 'success' | 'failure';

export const MODELS_PK = 'MODELS';
export const HOUR_KEY_LENGTH = 13; // 2026-11-01T13
export const DAY_KEY_LENGTH = 10; // 2026-11-01

const granularityCode = (granularity: Granularity) => (granularity === 'hour' ? 'H' : 'D');

export interface AggregateKey {
  readonly pk: string;
  readonly sk: string;
}

/** The partition key of one model's hour or day series. */
export function aggregateSeriesPk(granularity: Granularity, model: string): string {
  return `A#${granularityCode(granularity)}#${model}`;
}

export function aggregateKey(granularity: Granularity, model: string, bucket: string): AggregateKey {
  return { pk: aggregateSeriesPk(granularity, model), sk: bucket };
}

/** A stable string for a key, for use in Maps. */
export function keyId(key: AggregateKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

/** The counters stored per status; executions/successes/failures all come from `n`. */
export type StoredCounter = Exclude<keyof Counters, 'successes' | 'failures'>;

export const COUNTER_CODES = {
  executions: 'n',
  costNanos: 'c',
  unknownCostRuns: 'u',
  inputTokens: 'i',
  outputTokens: 'o',
  cacheReadTokens: 'r',
  cacheWriteTokens: 'w',
  llmCalls: 'l',
  toolCalls: 't',
  filesModified: 'f',
  durationMsSum: 'ms',
} as const satisfies Record<StoredCounter, string>;

const STATUS_PREFIX = { success: 's', failure: 'f' } as const satisfies Record<RunStatus, string>;
const ERROR_PREFIX = 'e:';
const WATERMARK_PREFIX = 'w:';

export function counterAttribute(status: RunStatus, counter: StoredCounter): string {
  return `${STATUS_PREFIX[status]}${COUNTER_CODES[counter]}`;
}

/** `bucket` is a sketch bucket attribute such as `d412` (see sketch.ts). */
export function histogramAttribute(status: RunStatus, bucket: string): string {
  return `${STATUS_PREFIX[status]}${bucket}`;
}

export function errorAttribute(errorType: string): string {
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
export interface StatusFigures {
  readonly counters: Counters;
  readonly histogram: Histogram;
}

/** An aggregate item, read back into figures. */
export interface DecodedAggregate {
  readonly byStatus: Record<RunStatus, StatusFigures>;
  /** Error type → failed runs (zero counts left out). */
  readonly errors: Map<string, number>;
}

const CODE_TO_COUNTER = new Map<string, StoredCounter>(
  Object.entries(COUNTER_CODES).map(([counter, code]) => [code, counter as StoredCounter]),
);

/**
 * Reads an item's number attributes (name → decimal string, as DynamoDB's N)
 * into per-status counters and histograms and per-type error counts. Other
 * attributes (keys, watermarks) are ignored.
 */
export function decodeAggregate(numbers: Iterable<[string, string]>): DecodedAggregate {
  const byStatus: Record<RunStatus, { counters: Counters; histogram: Histogram }> = {
    success: { counters: emptyCounters(), histogram: new Map() },
    failure: { counters: emptyCounters(), histogram: new Map() },
  };
  const errors = new Map<string, number>();
  for (const [name, value] of numbers) {
    if (name.startsWith(ERROR_PREFIX)) {
      if (Number(value) !== 0) errors.set(name.slice(ERROR_PREFIX.length), Number(value));
      continue;
    }
    const status: RunStatus | undefined =
      name[0] === 's' ? 'success' : name[0] === 'f' ? 'failure' : undefined;
    if (status === undefined) continue;
    const rest = name.slice(1);
    const figures = byStatus[status];
    if (isBucketAttribute(rest)) {
      if (Number(value) !== 0) figures.histogram.set(rest, Number(value));
      continue;
    }
    const counter = CODE_TO_COUNTER.get(rest);
    if (counter === 'costNanos') figures.counters.costNanos = BigInt(value);
    else if (counter !== undefined) figures.counters[counter] = Number(value);
  }
  byStatus.success.counters.successes = byStatus.success.counters.executions;
  byStatus.failure.counters.failures = byStatus.failure.counters.executions;
  return { byStatus, errors };
}
