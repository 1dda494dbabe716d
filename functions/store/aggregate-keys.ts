/**
 * Key layout of the Aggregates table. Pure functions, shared by the stream
 * handler that writes and the query handler that reads.
 *
 *   counters  pk = C#<H|D>#<status>#<model>   sk = <hour `2026-11-01T13` | day `2026-11-01`>
 *   errors    pk = E#<H|D>#<model>            sk = <hour | day>#<errorType>
 *   models    pk = MODELS                     sk = <model>
 *
 * A series (one pk) holds one item per bucket, so a time range of a series is
 * one Query with `sk BETWEEN`. Status comes before the model in the pk so that
 * a model name may contain `#`; bucket keys have a fixed width so the error
 * type can be split off the sort key.
 */

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

export function counterSeriesPk(granularity: Granularity, status: RunStatus, model: string): string {
  return `C#${granularityCode(granularity)}#${status}#${model}`;
}

export function errorSeriesPk(granularity: Granularity, model: string): string {
  return `E#${granularityCode(granularity)}#${model}`;
}

export function counterKey(
  granularity: Granularity,
  status: RunStatus,
  model: string,
  bucket: string,
): AggregateKey {
  return { pk: counterSeriesPk(granularity, status, model), sk: bucket };
}

export function errorKey(
  granularity: Granularity,
  model: string,
  bucket: string,
  errorType: string,
): AggregateKey {
  return { pk: errorSeriesPk(granularity, model), sk: `${bucket}#${errorType}` };
}

/** Splits an error item's sort key into its bucket and error type. */
export function parseErrorSk(granularity: Granularity, sk: string): { bucket: string; errorType: string } {
  const width = granularity === 'hour' ? HOUR_KEY_LENGTH : DAY_KEY_LENGTH;
  return { bucket: sk.slice(0, width), errorType: sk.slice(width + 1) };
}

/** A stable string for a key, for use in Maps. */
export function keyId(key: AggregateKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

/**
 * Name of the per-shard watermark attribute. Shard ids are 28–65 characters of
 * `[A-Za-z0-9-]`; a `wm_` prefix keeps them clear of counter names.
 */
export function watermarkAttribute(shardId: string): string {
  return `wm_${shardId}`;
}

/**
 * Sequence numbers are 21–40 digit decimal strings; padded to 40 they compare
 * as strings the way they compare as numbers, which is what a DynamoDB
 * condition expression can do.
 */
export function paddedSequence(sequenceNumber: string): string {
  return sequenceNumber.padStart(40, '0');
}
