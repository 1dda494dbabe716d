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
  addCounters,
  type CountedRun,
  type Counters,
  emptyCounters,
  isZeroCounters,
  RUN_STATUSES,
  type RunStatus,
  runCounters,
} from './counters';
import { type DaySpan, widenDaySpan } from './models';
import type { Granularity } from './query-range';
import { bucketAttribute, type Extent, type Histogram, widenExtent } from './sketch';
import { utcDayKey, utcHourKey } from './time';

/** Failures reported without an errorType are counted under this name. */
export const UNKNOWN_ERROR_TYPE = 'Unknown';

/**
 * The model of the all-models rollup: beside one item per (bucket, model),
 * every batch also writes one per bucket for all models together, so that a
 * view over every model reads one item per bucket however many models there
 * are. No run's model is empty (ingest and the stream reader require one).
 * The rollup holds no error types: they are read per model (GET /api/errors
 * lists failures by model anyway), and leaving them out keeps the one item
 * every run writes to small (see docs/QUERY.md, "All-models rollup").
 */
export const ALL_MODELS = '';

type ChangeKind = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface RunChange {
  readonly kind: ChangeKind;
  readonly oldRun?: CountedRun;
  readonly newRun?: CountedRun;
  /** True when DynamoDB's TTL process deleted the item. */
  readonly expiredByTtl: boolean;
}

export interface SignedRun {
  readonly run: CountedRun;
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

/** What a set of runs of one status adds to an aggregate item (negative when removed). */
interface StatusDelta {
  readonly counters: Counters;
  /** Duration sketch bucket (see sketch.ts) → runs. */
  readonly histogram: Histogram;
  /**
   * Shortest and longest duration of the runs added. Only an added run can
   * widen an item's extent; a removed one leaves it as a bound (see sketch.ts).
   */
  extent?: Extent;
  /** Runs by the minute of the hour (0–59) they started in; hour items only (what GET /api/alarm reads). */
  readonly perMinute: Map<number, number>;
}

/** What runs add to (or, signed, remove from) one aggregate item. */
export interface ItemDelta {
  readonly byStatus: Record<RunStatus, StatusDelta>;
  /** Failed runs by error type (Unknown without one). */
  readonly errors: Map<string, number>;
}

/** A delta that changes nothing. */
export function emptyDelta(): ItemDelta {
  const status = (): StatusDelta => ({
    counters: emptyCounters(),
    histogram: new Map(),
    perMinute: new Map(),
  });
  return { byStatus: { success: status(), failure: status() }, errors: new Map() };
}

const addTo = <K>(into: Map<K, number>, key: K, amount: number) =>
  into.set(key, (into.get(key) ?? 0) + amount);

/** Adds `other` into `into` (changed in place): counts add up, extents widen. */
export function addDelta(into: ItemDelta, other: ItemDelta): ItemDelta {
  for (const status of RUN_STATUSES) {
    const a = into.byStatus[status];
    const b = other.byStatus[status];
    addCounters(a.counters, b.counters);
    for (const [bucket, count] of b.histogram) addTo(a.histogram, bucket, count);
    for (const [minute, count] of b.perMinute) addTo(a.perMinute, minute, count);
    a.extent = widenExtent(a.extent, b.extent);
  }
  for (const [errorType, count] of other.errors) addTo(into.errors, errorType, count);
  return into;
}

/** Leaves out the zero counts of maps (changed in place); counters stay. */
function dropZeros(delta: ItemDelta): ItemDelta {
  const prune = <K>(map: Map<K, number>) => {
    for (const [key, count] of map) if (count === 0) map.delete(key);
  };
  for (const status of RUN_STATUSES) {
    prune(delta.byStatus[status].histogram);
    prune(delta.byStatus[status].perMinute);
  }
  prune(delta.errors);
  return delta;
}

/** Whether a delta counts nothing: every count zero (it may still carry an extent). */
export function countsNothing(delta: ItemDelta): boolean {
  const zero = (map: ReadonlyMap<unknown, number>) => [...map.values()].every((count) => count === 0);
  return (
    zero(delta.errors) &&
    RUN_STATUSES.every((status) => {
      const part = delta.byStatus[status];
      return isZeroCounters(part.counters) && zero(part.histogram) && zero(part.perMinute);
    })
  );
}

/**
 * What one run (signed) adds to its aggregate items: counters, duration
 * bucket and, when added, its duration as the extent, all under its status;
 * a failure also under its error type. `minute` adds the run to its minute of
 * the hour (hour items); `errorTypes: false` leaves the error type out (the
 * all-models rollup).
 */
export function runDeltaOf(
  { run, sign }: SignedRun,
  options: { minute?: boolean; errorTypes?: boolean } = {},
): ItemDelta {
  const delta = emptyDelta();
  const part = delta.byStatus[run.status];
  addCounters(part.counters, runCounters(run, sign));
  part.histogram.set(bucketAttribute(run.durationMs), sign);
  if (sign === 1) part.extent = { minMs: run.durationMs, maxMs: run.durationMs };
  if (options.minute) part.perMinute.set(new Date(run.startMs).getUTCMinutes(), sign);
  if (run.status === 'failure' && options.errorTypes !== false)
    delta.errors.set(run.errorType ?? UNKNOWN_ERROR_TYPE, sign);
  return delta;
}

/** One record's share of one aggregate item. */
interface ItemContribution {
  readonly sequence: string;
  readonly delta: ItemDelta;
}

/** Everything a batch does to one aggregate item, record by record, in sequence order. */
export interface PendingItem {
  readonly granularity: Granularity;
  /** ALL_MODELS for the all-models rollup. */
  readonly model: string;
  /** `2026-11-01T13` (hour) or `2026-11-01` (day), UTC. */
  readonly bucket: string;
  readonly contributions: ItemContribution[];
}

const itemId = (granularity: Granularity, model: string, bucket: string) =>
  `${granularity}\u0000${model}\u0000${bucket}`;

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
      const { startMs, model } = signed.run;
      const day = utcDayKey(startMs);
      const hour = utcHourKey(startMs);
      touched.add(this.contribute('day', model, day, sequence, runDeltaOf(signed)));
      // Hour items also count runs per minute, so the alarm's trailing hour reads two items.
      touched.add(this.contribute('hour', model, hour, sequence, runDeltaOf(signed, { minute: true })));
      const rollup = { errorTypes: false };
      touched.add(this.contribute('day', ALL_MODELS, day, sequence, runDeltaOf(signed, rollup)));
      const rollupHour = runDeltaOf(signed, { ...rollup, minute: true });
      touched.add(this.contribute('hour', ALL_MODELS, hour, sequence, rollupHour));
    }
    for (const item of touched) {
      const last = item.contributions[item.contributions.length - 1];
      // A change with no net count (a correction of errorMessage only) has no
      // contribution, even though its run's duration is in the extent again.
      if (last && countsNothing(dropZeros(last.delta))) item.contributions.pop();
      if (item.contributions.length === 0)
        this.items.delete(itemId(item.granularity, item.model, item.bucket));
    }
  }

  private contribute(
    granularity: Granularity,
    model: string,
    bucket: string,
    sequence: string,
    delta: ItemDelta,
  ): PendingItem {
    const id = itemId(granularity, model, bucket);
    let item = this.items.get(id);
    if (!item) {
      item = { granularity, model, bucket, contributions: [] };
      this.items.set(id, item);
    }
    const last = item.contributions[item.contributions.length - 1];
    if (last && last.sequence === sequence) addDelta(last.delta, delta);
    else {
      if (last && last.sequence > sequence)
        throw new RangeError(`records out of sequence order at ${sequence}`);
      item.contributions.push({ sequence, delta });
    }
    return item;
  }

  pendingItems(): PendingItem[] {
    return [...this.items.values()];
  }

  /**
   * The models of the batch (for the model registry), the rollup's left out,
   * each with the first and last UTC day it has a day item of.
   */
  modelDays(): Map<string, DaySpan> {
    const spans = new Map<string, DaySpan>();
    for (const { granularity, model, bucket } of this.items.values()) {
      if (granularity !== 'day' || model === ALL_MODELS) continue;
      spans.set(model, widenDaySpan(spans.get(model), { first: bucket, last: bucket }));
    }
    return spans;
  }
}

/**
 * Sums the contributions newer than `watermark` (padded sequence, exclusive)
 * and, with `through`, not newer than it (inclusive): one write's share when
 * the writer splits an item's contributions over several writes.
 * Zero counts are left out; the result may count nothing even when there are
 * newer contributions (they cancel out), and the writer must still move the
 * watermark past them (see aggregates-store.ts).
 */
export function sumContributions(item: PendingItem, watermark?: string, through?: string): ItemDelta {
  const total = emptyDelta();
  for (const contribution of item.contributions) {
    if (watermark !== undefined && contribution.sequence <= watermark) continue;
    if (through !== undefined && contribution.sequence > through) break;
    addDelta(total, contribution.delta);
  }
  return dropZeros(total);
}

/** The sequences of an item's contributions newer than `watermark`, in order. */
export function sequencesAfter(item: PendingItem, watermark?: string): string[] {
  return item.contributions
    .map((contribution) => contribution.sequence)
    .filter((sequence) => watermark === undefined || sequence > watermark);
}
