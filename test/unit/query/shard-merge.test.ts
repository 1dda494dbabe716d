/**
 * The sharded newest-first merge against an in-memory index that behaves as
 * a DynamoDB Query does (Limit counts keys read before the filter,
 * LastEvaluatedKey whenever Limit was reached): every cursor walk, with any
 * page size, budget and filter, and with runs written between its pages,
 * gives out each matching run exactly once, newest first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeNewestFirst, type ShardGroup, type ShardRead } from '../../../functions/domain/shard-merge';

const SHARDS = 4;
const DAY = 1_000;
const pad = (ms: number) => String(ms).padStart(15, '0');

interface Entry {
  readonly key: string;
  readonly matches: boolean;
}

/** An index of `days` days of SHARDS shards each, keys `<ms>#<id>`. */
class FakeIndex {
  readonly shards = new Map<string, Entry[]>(); // `${day}#${shard}` → entries
  queries = 0;
  itemsRead = 0;

  add(ms: number, id: string, matches: boolean) {
    const partition = `${Math.floor(ms / DAY)}#${Number.parseInt(id.slice(1), 10) % SHARDS}`;
    const entries = this.shards.get(partition) ?? [];
    entries.push({ key: `${pad(ms)}#${id}`, matches });
    this.shards.set(partition, entries);
  }

  /** Groups below `below` for a range [0, endMs), as runs-reader builds them. */
  *groups(below: string, endMs: number): Generator<ShardGroup<string>> {
    const belowMs = Number(below.slice(0, 15));
    const topMs = Math.min(endMs, below.includes('#') ? belowMs + 1 : belowMs);
    for (let day = Math.floor((topMs - 1) / DAY); day >= 0; day--) {
      const low = pad(day * DAY);
      const after: (string | undefined)[] = [];
      yield {
        floor: low,
        read: async (shard, pageSize): Promise<ShardRead<string>> => {
          this.queries++;
          const start = after[shard];
          const inRange = (this.shards.get(`${day}#${shard}`) ?? [])
            .filter((entry) => entry.key >= low && entry.key <= below && (!start || entry.key < start))
            .sort((a, b) => (a.key < b.key ? 1 : -1));
          const evaluated = inRange.slice(0, pageSize);
          this.itemsRead += evaluated.length;
          const lastKey = evaluated.length === pageSize ? evaluated.at(-1)?.key : undefined;
          after[shard] = lastKey;
          return {
            entries: evaluated.filter((e) => e.matches).map((e) => ({ key: e.key, value: e.key })),
            ...(lastKey ? { lastKey } : {}),
          };
        },
      };
    }
  }

  async page(below: string, endMs: number, limit: number, budget: number, pageSize: number) {
    const queriesBefore = this.queries;
    return mergeNewestFirst(this.groups(below, endMs), {
      limit,
      shards: SHARDS,
      below,
      pageSize: () => pageSize,
      mayRead: (reads) => this.queries - queriesBefore + reads <= budget,
    });
  }
}

const runsArbitrary = fc.uniqueArray(
  fc.record({ ms: fc.integer({ min: 0, max: 6 * DAY - 1 }), id: fc.nat(10_000), matches: fc.boolean() }),
  // size 'max': arrays of any length up to 150, so a shard holds many keys of a day.
  { selector: (run) => run.id, maxLength: 150, size: 'max' },
);

describe('sharded newest-first merge', () => {
  it('walks every matching key exactly once, newest first, whatever the limit, page size and budget', async () => {
    await fc.assert(
      fc.asyncProperty(
        runsArbitrary,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 0, max: 4 * SHARDS }),
        async (runs, limit, pageSize, budget) => {
          const index = new FakeIndex();
          for (const run of runs) index.add(run.ms, `r${run.id}`, run.matches);
          const endMs = 6 * DAY;
          const seen: string[] = [];
          let below = pad(endMs);
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(1_000);
            const page = await index.page(below, endMs, limit, budget, pageSize);
            expect(page.entries.length).toBeLessThanOrEqual(limit);
            seen.push(...page.entries);
            if (page.next === undefined) break;
            expect(page.next < below).toBe(true); // the cursor always moves down
            below = page.next;
          }
          const expected = runs
            .filter((run) => run.matches)
            .map((run) => `${pad(run.ms)}#r${run.id}`)
            .sort()
            .reverse();
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skips and repeats nothing while runs are written between pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        runsArbitrary,
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 6 * DAY - 1 }), page: fc.nat(20) }), {
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 3 * SHARDS }),
        async (runs, late, limit, budget) => {
          const index = new FakeIndex();
          for (const run of runs) index.add(run.ms, `r${run.id}`, run.matches);
          const endMs = 6 * DAY;
          const seen: string[] = [];
          const behind = new Set<string>();
          const ahead = new Set<string>();
          let below = pad(endMs);
          for (let pageNumber = 0; ; pageNumber++) {
            const page = await index.page(below, endMs, limit, budget, 3);
            seen.push(...page.entries);
            if (page.next === undefined) break;
            below = page.next;
            for (const [n, write] of late.entries()) {
              if (write.page !== pageNumber) continue;
              const key = `${pad(write.ms)}#r${20_000 + n}`;
              index.add(write.ms, `r${20_000 + n}`, true);
              (key < below ? behind : ahead).add(key);
            }
          }
          expect(new Set(seen).size).toBe(seen.length); // nothing repeated
          expect([...seen].sort().reverse()).toEqual(seen); // newest first
          for (const key of behind) expect(seen).toContain(key); // written below the cursor: read in turn
          for (const key of ahead) expect(seen).not.toContain(key); // above it: the next refresh shows it
          const original = runs.filter((run) => run.matches).map((run) => `${pad(run.ms)}#r${run.id}`);
          for (const key of original) expect(seen).toContain(key);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers an empty page with a cursor further on when the budget ends before a match', async () => {
    const index = new FakeIndex();
    for (let ms = 0; ms < 6 * DAY; ms += 7) index.add(ms, `r${ms}`, ms === 7);
    const first = await index.page(pad(6 * DAY), 6 * DAY, 10, SHARDS, 50);
    expect(first.entries).toEqual([]);
    expect(first.budgetSpent).toBe(true);
    expect(first.next).toBeDefined();
    expect((first.next as string) < pad(6 * DAY)).toBe(true);
    expect(index.queries).toBe(SHARDS); // the first round only: the budget held
  });
});
