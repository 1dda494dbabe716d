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
  counterKey,
  errorKey,
  type Granularity,
  keyId,
  type RunStatus,
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
 * Counter attributes of a (bucket, model, status) item. All are plain integers
 * except costNanos, a bigint so that sums stay exact past 2^53.
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

/** Attribute name → delta; histogram buckets (`d412`) and `count` included. */
export type AttributeDeltas = Map<string, number | bigint>;

function addTo(deltas: AttributeDeltas, attribute: string, amount: number | bigint): void {
  const current = deltas.get(attribute);
  if (typeof amount === 'bigint') deltas.set(attribute, ((current as bigint | undefined) ?? 0n) + amount);
  else deltas.set(attribute, ((current as number | undefined) ?? 0) + amount);
}

/** The deltas one run (signed) makes to its counter item. */
export function counterDeltasOf({ run, sign }: SignedRun): AttributeDeltas {
  const success = run.status === 'success';
  const deltas: AttributeDeltas = new Map<string, number | bigint>([
    ['executions', sign],
    ['successes', success ? sign : 0],
    ['failures', success ? 0 : sign],
    ['costNanos', run.costNanos === undefined ? 0n : BigInt(sign) * run.costNanos],
    ['unknownCostRuns', run.costNanos === undefined ? sign : 0],
    ['inputTokens', sign * run.inputTokens],
    ['outputTokens', sign * run.outputTokens],
    ['cacheReadTokens', sign * run.cacheReadTokens],
    ['cacheWriteTokens', sign * run.cacheWriteTokens],
    ['llmCalls', sign * run.llmCalls],
    ['toolCalls', sign * run.toolCalls],
    ['filesModified', success ? sign * run.filesModified : 0],
    ['durationMsSum', sign * run.durationMs],
  ]);
  addTo(deltas, bucketAttribute(run.durationMs), sign);
  return deltas;
}

export type AggregateItemKind = 'counter' | 'error';

/** One record's share of one aggregate item. */
export interface ItemContribution {
  readonly sequence: string;
  readonly deltas: AttributeDeltas;
}

/** Everything a batch does to one aggregate item, record by record. */
export interface PendingItem {
  readonly key: AggregateKey;
  readonly kind: AggregateItemKind;
  readonly granularity: Granularity;
  readonly model: string;
  readonly status?: RunStatus;
  readonly contributions: ItemContribution[];
}

/**
 * Pre-aggregates a batch: for every aggregate item the batch touches, the
 * ordered contributions of each record. Writing then costs one UpdateItem per
 * touched item, however many runs the batch holds.
 */
export class BatchAccumulator {
  private readonly items = new Map<string, PendingItem>();

  /** Adds one stream record's change; `sequence` is its padded sequence number. */
  add(sequence: string, change: RunChange): void {
    for (const signed of signedRunsOf(change)) {
      const { run, sign } = signed;
      const hour = utcHourKey(run.startMs);
      const day = utcDayKey(run.startMs);
      const counters = counterDeltasOf(signed);
      for (const [granularity, bucket] of [
        ['hour', hour],
        ['day', day],
      ] as const) {
        this.contribute(
          counterKey(granularity, run.status, run.model, bucket),
          { kind: 'counter', granularity, model: run.model, status: run.status },
          sequence,
          counters,
        );
        if (run.status === 'failure') {
          const errorType = run.errorType ?? UNKNOWN_ERROR_TYPE;
          this.contribute(
            errorKey(granularity, run.model, bucket, errorType),
            { kind: 'error', granularity, model: run.model },
            sequence,
            new Map([['count', sign]]),
          );
        }
      }
    }
  }

  private contribute(
    key: AggregateKey,
    meta: Omit<PendingItem, 'key' | 'contributions'>,
    sequence: string,
    deltas: AttributeDeltas,
  ): void {
    const id = keyId(key);
    let item = this.items.get(id);
    if (!item) {
      item = { key, ...meta, contributions: [] };
      this.items.set(id, item);
    }
    const last = item.contributions[item.contributions.length - 1];
    if (last && last.sequence === sequence) {
      for (const [attribute, amount] of deltas) addTo(last.deltas, attribute, amount);
    } else {
      item.contributions.push({ sequence, deltas: new Map(deltas) });
    }
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
 * Zero deltas are dropped: an item whose net change is zero needs no write.
 */
export function sumContributions(item: PendingItem, watermark?: string): AttributeDeltas {
  const total: AttributeDeltas = new Map();
  for (const contribution of item.contributions) {
    if (watermark !== undefined && contribution.sequence <= watermark) continue;
    for (const [attribute, amount] of contribution.deltas) addTo(total, attribute, amount);
  }
  for (const [attribute, amount] of total) if (amount === 0 || amount === 0n) total.delete(attribute);
  return total;
}

/** Highest and lowest sequence among an item's contributions newer than `watermark`. */
export function sequenceRange(item: PendingItem, watermark?: string): { min: string; max: string } | null {
  const sequences = item.contributions
    .map((contribution) => contribution.sequence)
    .filter((sequence) => watermark === undefined || sequence > watermark);
  if (sequences.length === 0) return null;
  return { min: sequences[0]!, max: sequences[sequences.length - 1]! };
}
