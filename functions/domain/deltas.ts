/**
 * From stream changes to counter deltas, pre-aggregated per aggregate item.
 *
 * INSERT adds the new run; MODIFY subtracts the old image and adds the new one
 * (a correction may move a run to another hour, model or status); a REMOVE by
 * TTL expiry changes nothing, because aggregates outlive raw runs; any other
 * REMOVE subtracts. Each stream record's contribution is kept apart (tagged
 * with its sequence number) so that the writer can apply exactly the part of a
 * batch that an item has not seen yet; see functions/store/aggregates-store.ts.
 */
import {
  type AggregateKey,
  aggregateKey,
  combineAmounts,
  counterAttribute,
  errorAttribute,
  extremumAttribute,
  extremumOf,
  type Granularity,
  histogramAttribute,
  keyId,
  minuteAttribute,
  type StoredCounter,
} from '../store/aggregate-keys';
import type { RunImage } from '../store/run-item';
import { bucketAttribute } from './sketch';
import { utcDayKey, utcHourKey } from './time';

/** Failures reported without an errorType are counted under this name. */
export const UNKNOWN_ERROR_TYPE = 'Unknown';

export type ChangeKind = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface RunChange {
  readonly kind: ChangeKind;
  readonly oldRun?: RunImage;
  readonly newRun?: RunImage;
  /** True when DynamoDB's TTL process deleted the item. */
  readonly expiredByTtl: boolean;
}

export interface SignedRun {
  readonly run: RunImage;
  readonly sign: 1 | -1;
}

/** The runs a change adds (+1) and removes (−1). */
export function signedRunsOf(change: RunChange): SignedRun[] {
  switch (change.kind) {
    case 'INSERT':
      return change.newRun ? [{ run: change.newRun, sign: 1 }] : [];
    case 'MODIFY':
      return [
        ...(change.oldRun ? [{ run: change.oldRun, sign: -1 as const }] : []),
        ...(change.newRun ? [{ run: change.newRun, sign: 1 as const }] : []),
      ];
    case 'REMOVE':
      return change.expiredByTtl || !change.oldRun ? [] : [{ run: change.oldRun, sign: -1 }];
  }
}

/**
 * The counters of one (bucket, model, status), as the query side reads them.
 * All are plain integers except costNanos, a bigint so that sums stay exact
 * past 2^53. See aggregate-keys.ts for how they are stored.
 */
export interface Counters {
  executions: number;
  successes: number;
  failures: number;
  costNanos: bigint;
  unknownCostRuns: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  llmCalls: number;
  toolCalls: number;
  /** Summed over successful runs only: "files modified per successful run". */
  filesModified: number;
  durationMsSum: number;
}

/** All counters at zero. */
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

export const COUNTER_NAMES = [
  'executions',
  'successes',
  'failures',
  'costNanos',
  'unknownCostRuns',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'llmCalls',
  'toolCalls',
  'filesModified',
  'durationMsSum',
] as const satisfies readonly (keyof Counters)[];

/** Attribute name → delta, in the item layout of aggregate-keys.ts. */
export type AttributeDeltas = Map<string, number | bigint>;

function addTo(deltas: AttributeDeltas, attribute: string, amount: number | bigint): void {
  const current = deltas.get(attribute);
  deltas.set(attribute, current === undefined ? amount : combineAmounts(attribute, current, amount));
}

/** The deltas one run (signed) makes to its (bucket, model) aggregate item. */
export function runDeltasOf({ run, sign }: SignedRun): AttributeDeltas {
  const status = run.status;
  const attribute = (counter: StoredCounter) => counterAttribute(status, counter);
  const deltas: AttributeDeltas = new Map<string, number | bigint>([
    [attribute('executions'), sign],
    [attribute('unknownCostRuns'), run.costNanos === undefined ? sign : 0],
    [attribute('inputTokens'), sign * run.inputTokens],
    [attribute('outputTokens'), sign * run.outputTokens],
    [attribute('cacheReadTokens'), sign * run.cacheReadTokens],
    [attribute('cacheWriteTokens'), sign * run.cacheWriteTokens],
    [attribute('llmCalls'), sign * run.llmCalls],
    [attribute('toolCalls'), sign * run.toolCalls],
    [attribute('durationMsSum'), sign * run.durationMs],
    [histogramAttribute(status, bucketAttribute(run.durationMs)), sign],
  ]);
  if (run.costNanos !== undefined) deltas.set(attribute('costNanos'), BigInt(sign) * run.costNanos);
  // Only an added run can widen the extent; a removed one leaves it as a bound (see sketch.ts).
  if (sign === 1) {
    deltas.set(extremumAttribute(status, 'min'), run.durationMs);
    deltas.set(extremumAttribute(status, 'max'), run.durationMs);
  }
  if (status === 'success') deltas.set(attribute('filesModified'), sign * run.filesModified);
  else deltas.set(errorAttribute(run.errorType ?? UNKNOWN_ERROR_TYPE), sign);
  return deltas;
}

/** One record's share of one aggregate item. */
export interface ItemContribution {
  readonly sequence: string;
  readonly deltas: AttributeDeltas;
}

/** Everything a batch does to one aggregate item, record by record, in sequence order. */
export interface PendingItem {
  readonly key: AggregateKey;
  readonly granularity: Granularity;
  readonly model: string;
  readonly bucket: string;
  readonly contributions: ItemContribution[];
}

function countsNothing(deltas: AttributeDeltas): boolean {
  for (const attribute of deltas.keys()) if (extremumOf(attribute) === undefined) return false;
  return true;
}

function dropZeros(deltas: AttributeDeltas): AttributeDeltas {
  for (const [attribute, amount] of deltas)
    if ((amount === 0 || amount === 0n) && extremumOf(attribute) === undefined) deltas.delete(attribute);
  return deltas;
}

/**
 * Pre-aggregates a batch: for every aggregate item the batch touches, the
 * ordered contributions of each record. Writing then costs one UpdateItem per
 * touched item, however many runs the batch holds.
 *
 * A record whose net effect on an item is zero (a correction of errorMessage
 * only, a MODIFY that changes nothing counted) leaves no contribution there:
 * any batch that holds the record sees the same zero, so it needs no place in
 * the item's watermark order.
 */
export class BatchAccumulator {
  private readonly items = new Map<string, PendingItem>();

  /** Adds one stream record's change; `sequence` is its padded sequence number. */
  add(sequence: string, change: RunChange): void {
    const touched = new Set<PendingItem>();
    for (const signed of signedRunsOf(change)) {
      const deltas = runDeltasOf(signed);
      const { startMs, model, status } = signed.run;
      touched.add(this.contribute('day', model, utcDayKey(startMs), sequence, deltas));
      // Hour items also count runs per minute, so the alarm's trailing hour reads two items.
      const minute = new Date(startMs).getUTCMinutes();
      deltas.set(minuteAttribute(status, minute), signed.sign);
      touched.add(this.contribute('hour', model, utcHourKey(startMs), sequence, deltas));
    }
    for (const item of touched) {
      const last = item.contributions[item.contributions.length - 1];
      // A change with no net count (a correction of errorMessage only) has no
      // contribution, even though its run's duration is in the extent again.
      if (last && countsNothing(dropZeros(last.deltas))) item.contributions.pop();
      if (item.contributions.length === 0) this.items.delete(keyId(item.key));
    }
  }

  private contribute(
    granularity: Granularity,
    model: string,
    bucket: string,
    sequence: string,
    deltas: AttributeDeltas,
  ): PendingItem {
    const key = aggregateKey(granularity, model, bucket);
    const id = keyId(key);
    let item = this.items.get(id);
    if (!item) {
      item = { key, granularity, model, bucket, contributions: [] };
      this.items.set(id, item);
    }
    const last = item.contributions[item.contributions.length - 1];
    if (last && last.sequence === sequence) {
      for (const [attribute, amount] of deltas) addTo(last.deltas, attribute, amount);
    } else {
      if (last && last.sequence > sequence)
        throw new RangeError(`records out of sequence order at ${sequence}`);
      item.contributions.push({ sequence, deltas: new Map(deltas) });
    }
    return item;
  }

  pendingItems(): PendingItem[] {
    return [...this.items.values()];
  }

  /** Distinct models seen in the batch (for the model registry). */
  models(): string[] {
    return [...new Set(this.pendingItems().map((item) => item.model))];
  }
}

/**
 * Sums the contributions newer than `watermark` (padded sequence, exclusive).
 * Attributes whose net change is zero are left out; the result may be empty
 * even when there are newer contributions (they cancel out), and the writer
 * must still move the watermark past them (see aggregates-store.ts).
 */
export function sumContributions(item: PendingItem, watermark?: string): AttributeDeltas {
  const total: AttributeDeltas = new Map();
  for (const contribution of item.contributions) {
    if (watermark !== undefined && contribution.sequence <= watermark) continue;
    for (const [attribute, amount] of contribution.deltas) addTo(total, attribute, amount);
  }
  return dropZeros(total);
}

/** Highest and lowest sequence among an item's contributions newer than `watermark`. */
export function sequenceRange(item: PendingItem, watermark?: string): { min: string; max: string } | null {
  const sequences = item.contributions
    .map((contribution) => contribution.sequence)
    .filter((sequence) => watermark === undefined || sequence > watermark);
  if (sequences.length === 0) return null;
  return { min: sequences[0]!, max: sequences[sequences.length - 1]! };
}
