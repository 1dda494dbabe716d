/**
 * The counters an aggregate keeps, in ONE table: what a run adds to each,
 * its zero, how counters add and subtract, and the short code the store
 * names it by (functions/store/aggregate-keys.ts builds attribute names from
 * it; nothing else in the domain knows them). A new metric is a new row here;
 * the API bodies (summary.ts, rates.ts) then decide how to show it.
 *
 * Counters are kept apart by run status in every aggregate item. All are
 * integers, so sums and the signed sums of the read side are exact; cost is
 * a bigint of nanodollars so that its sums stay exact past 2^53.
 */

export type RunStatus = 'success' | 'failure';
export const RUN_STATUSES = ['success', 'failure'] as const satisfies readonly RunStatus[];

/** What the aggregates count of a run (a stored run image is one). */
export interface CountedRun {
  readonly model: string;
  readonly status: RunStatus;
  /** Start as epoch milliseconds: the run's hour and day. */
  readonly startMs: number;
  readonly durationMs: number;
  /** Exact reported cost in nanodollars; absent when the run reported none. */
  readonly costNanos?: bigint;
  /**
   * Cost estimated at ingest from the model price table (domain/pricing.ts),
   * for a run that reported none and whose model has a price.
   */
  readonly estimatedCostNanos?: bigint;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly llmCalls: number;
  readonly toolCalls: number;
  readonly filesModified: number;
  readonly errorType?: string;
}

interface Counter<T extends number | bigint> {
  /**
   * The store's short name for it (names are short: an update is charged by
   * the item's size). Stored data is named by it: never reuse or change one.
   * null for a count the status alone decides: an item keeps statuses apart,
   * so it is that status's executions and is not stored twice. Lowercase
   * letters, not starting with q or h (the store's names for per-minute
   * counts and histogram buckets sit beside the codes; it refuses to load
   * with a code that would clash).
   */
  readonly code: string | null;
  readonly zero: T;
  /** What one run adds. */
  readonly of: (run: CountedRun) => T;
}

const count = (code: string | null, of: (run: CountedRun) => number): Counter<number> => ({
  code,
  zero: 0,
  of,
});
const amount = (code: string, of: (run: CountedRun) => bigint): Counter<bigint> => ({ code, zero: 0n, of });

/** The counter table. */
export const COUNTERS = {
  executions: count('n', () => 1),
  successes: count(null, (run) => (run.status === 'success' ? 1 : 0)),
  failures: count(null, (run) => (run.status === 'failure' ? 1 : 0)),
  /** Reported costs. */
  costNanos: amount('c', (run) => run.costNanos ?? 0n),
  /** Estimates, of the runs that reported no cost (a reported cost is never estimated). */
  estimatedCostNanos: amount('ec', (run) =>
    run.costNanos === undefined ? (run.estimatedCostNanos ?? 0n) : 0n,
  ),
  estimatedCostRuns: count('er', (run) =>
    run.costNanos === undefined && run.estimatedCostNanos !== undefined ? 1 : 0,
  ),
  /**
   * Runs with neither a reported nor an estimated cost: they count as $0.
   * Runs stored before estimates existed have no estimate, so for them this
   * is "no reported cost", what `u` counted then: stored items stay right.
   */
  unknownCostRuns: count('u', (run) =>
    run.costNanos === undefined && run.estimatedCostNanos === undefined ? 1 : 0,
  ),
  inputTokens: count('i', (run) => run.inputTokens),
  outputTokens: count('o', (run) => run.outputTokens),
  cacheReadTokens: count('r', (run) => run.cacheReadTokens),
  cacheWriteTokens: count('w', (run) => run.cacheWriteTokens),
  llmCalls: count('l', (run) => run.llmCalls),
  toolCalls: count('t', (run) => run.toolCalls),
  /** Summed over successful runs only: "files modified per successful run". */
  filesModified: count('f', (run) => (run.status === 'success' ? run.filesModified : 0)),
  durationMsSum: count('ms', (run) => run.durationMs),
};

export type CounterName = keyof typeof COUNTERS;

/** One value per counter: numbers, and a bigint for cost. */
export type Counters = { [Name in CounterName]: (typeof COUNTERS)[Name]['zero'] };

export const COUNTER_NAMES = Object.keys(COUNTERS) as CounterName[];

type LooseCounters = Record<CounterName, number | bigint>;

/** All counters at zero. */
export function emptyCounters(): Counters {
  const counters = {} as LooseCounters;
  for (const name of COUNTER_NAMES) counters[name] = COUNTERS[name].zero;
  return counters as Counters;
}

/** What one run adds to the counters of its status, times `sign`. */
export function runCounters(run: CountedRun, sign: 1 | -1 = 1): Counters {
  const counters = {} as LooseCounters;
  for (const name of COUNTER_NAMES) {
    const value = COUNTERS[name].of(run);
    counters[name] = typeof value === 'bigint' ? BigInt(sign) * value : sign * value;
  }
  return counters as Counters;
}

/** Adds `sign` × `other` into `into` (changed in place). */
export function addCounters(into: Counters, other: Readonly<Counters>, sign: 1 | -1 = 1): Counters {
  const a = into as LooseCounters;
  const b = other as Readonly<LooseCounters>;
  for (const name of COUNTER_NAMES) {
    const value = b[name];
    const before = a[name];
    a[name] =
      typeof value === 'bigint'
        ? (before as bigint) + BigInt(sign) * value
        : (before as number) + sign * (value as number);
  }
  return into;
}

/** Whether every counter is zero. */
export function isZeroCounters(counters: Readonly<Counters>): boolean {
  const loose = counters as Readonly<LooseCounters>;
  return COUNTER_NAMES.every((name) => loose[name] === COUNTERS[name].zero);
}

/**
 * The counters that the status alone decides (`code: null`) for a status's
 * share of an item, from its executions: `successes` of the success share
 * are its executions, of the failure share 0.
 */
export function withStatusCounts(status: RunStatus, counters: Counters): Counters {
  const loose = counters as LooseCounters;
  for (const name of COUNTER_NAMES) {
    const counter = COUNTERS[name];
    if (counter.code !== null) continue;
    const probe = { status } as CountedRun;
    loose[name] = (counter.of(probe) as number) * counters.executions;
  }
  return counters;
}
