/**
 * Newest-first merge of sharded sorted reads, one page at a time, under a
 * read budget. Pure: the reads are injected, so the merge, its cursor and its
 * budget are tested without DynamoDB (test/unit/query/shard-merge.test.ts).
 *
 * The runs are read in groups (UTC days, newest first); a group is spread
 * over `shards` sorted sources (the index's write shards of that day), each
 * read page by page in descending key order. An entry is given out only when
 * it is the greatest head of all shards and every shard that is not read out
 * holds at least one entry (so no unread entry can be greater). When the
 * budget stops the reading, the page ends at the **frontier**: the greatest
 * key down to which some shard has yet to be read. Every key at or above it
 * has been seen in every shard, so the entries at or above it are given out
 * and the next page starts strictly below it; the entries read below it are
 * read again then. So a walk repeats and skips nothing, and each page moves
 * the position down (the first round of a page is always read, and it reads
 * at least two keys per shard), even when it gives out nothing.
 */

export interface Keyed<T> {
  /** Sort key, unique across the shards; greater is newer. */
  readonly key: string;
  readonly value: T;
}

export interface ShardRead<T> {
  /** Matching entries, greatest key first. */
  readonly entries: readonly Keyed<T>[];
  /**
   * Key of the last entry the read went through, matching or not, when the
   * shard holds more; absent once the shard is read out.
   */
  readonly lastKey?: string;
}

export interface ShardGroup<T> {
  /** A position below every key of the group: where the walk is once the group is read out. */
  readonly floor: string;
  /** The next page of one shard, at most `pageSize` keys read (DynamoDB's Limit). */
  read(shard: number, pageSize: number): Promise<ShardRead<T>>;
}

export interface MergeOptions {
  /** Most entries to give out. */
  readonly limit: number;
  /** Shards per group. */
  readonly shards: number;
  /** Entries come from strictly below this position (the cursor); at or above it are dropped. */
  readonly below: string;
  /** Keys to read per shard for one page, given the entries still wanted and the shards to read. */
  pageSize(wanted: number, shardsToRead: number): number;
  /** Whether a round of `reads` shard reads fits the budget. Not asked for a page's first round. */
  mayRead(reads: number): boolean;
}

export interface MergedPage<T> {
  readonly entries: T[];
  /** Where the next page starts (strictly below); absent when every group is read out. */
  readonly next?: string;
  /** True when the page ended at the read budget rather than at `limit` or the end. */
  readonly budgetSpent: boolean;
}

interface ShardState<T> {
  buffer: Keyed<T>[];
  done: boolean;
  lastKey?: string;
}

/** The shard with the greatest head, if any shard holds an entry. */
function greatestHead<T>(states: readonly ShardState<T>[]): ShardState<T> | undefined {
  let best: ShardState<T> | undefined;
  for (const state of states) {
    const head = state.buffer[0];
    if (head && (!best || head.key > (best.buffer[0] as Keyed<T>).key)) best = state;
  }
  return best;
}

export async function mergeNewestFirst<T>(
  groups: Iterable<ShardGroup<T>>,
  options: MergeOptions,
): Promise<MergedPage<T>> {
  const entries: T[] = [];
  let lastGiven = options.below;
  let position = options.below;
  let firstRound = true;
  for (const group of groups) {
    const states: ShardState<T>[] = Array.from({ length: options.shards }, () => ({
      buffer: [],
      done: false,
    }));
    for (;;) {
      // Give out what no unread entry can precede.
      while (!states.some((state) => !state.done && state.buffer.length === 0)) {
        const best = greatestHead(states);
        if (!best) break; // the group is read out
        if (entries.length === options.limit) return { entries, next: lastGiven, budgetSpent: false };
        const entry = best.buffer.shift() as Keyed<T>;
        entries.push(entry.value);
        lastGiven = entry.key;
      }
      const toRead = states.filter((state) => !state.done && state.buffer.length === 0);
      if (toRead.length === 0) break;
      if (!firstRound && !options.mayRead(toRead.length)) {
        // The frontier: shards not read yet in this group are still at `position`.
        const frontier = states
          .filter((state) => !state.done)
          .map((state) => state.lastKey ?? position)
          .sort()
          .at(-1) as string;
        for (;;) {
          const best = greatestHead(states);
          const head = best?.buffer[0];
          if (!best || !head || head.key < frontier) break;
          if (entries.length === options.limit) return { entries, next: lastGiven, budgetSpent: true };
          best.buffer.shift();
          entries.push(head.value);
          lastGiven = head.key;
        }
        return { entries, next: frontier, budgetSpent: true };
      }
      firstRound = false;
      const pageSize = options.pageSize(options.limit + 1 - entries.length, toRead.length);
      await Promise.all(
        toRead.map(async (state) => {
          const read = await group.read(states.indexOf(state), pageSize);
          state.buffer.push(...read.entries.filter((entry) => entry.key < options.below));
          state.lastKey = read.lastKey;
          state.done = read.lastKey === undefined;
        }),
      );
    }
    position = group.floor;
  }
  return { entries, budgetSpent: false };
}
