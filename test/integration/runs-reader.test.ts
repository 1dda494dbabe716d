/**
 * Drill-down over the sharded byStartTime index on DynamoDB Local: runs go
 * in through the ingest handler, land in RUN_INDEX_SHARDS partitions per day,
 * and GET /api/runs merges them newest first; a rare errorType over 90 days
 * is read under the per-page read budget, page after page, each page in
 * bounded reads, until the cursor walk reaches the end.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asFunction, type Callable, runAs } from '../../local/permission-guard';
import { type DynamoFixture, enforceRoles, startDynamoFixture } from '../support/dynamo-fixture';
import { httpEvent, lambdaContext } from '../support/events';
import { type DatasetRun, generateRuns } from '../support/run-dataset';

const DAY_MS = 86_400_000;
const newestFirst = (a: DatasetRun, b: DatasetRun) =>
  Date.parse(b.startTime) - Date.parse(a.startTime) || (a.executionId < b.executionId ? 1 : -1);

describe('runs drill-down over the sharded index', () => {
  let fixture: DynamoFixture;
  let query: Callable<typeof import('../../functions/query').handler>;
  let shards: number;
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const from = today - 89 * DAY_MS; // 90 days, today included
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  // Runs over 90 days; four of them carry an error type nothing else has.
  const runs = generateRuns(1_200, from, today - 1_000, 21, 'sh').map((run) => ({
    ...run,
    endTime: new Date(Math.min(Date.parse(run.endTime), Date.now() - 60_000)).toISOString(),
  }));
  const rare = [3, 400, 799, 1_150, 1_151].map((index) => runs[index]!);
  for (const run of rare) Object.assign(run, { status: 'failure', errorType: 'RareBug', filesModified: 0 });
  Object.assign(rare[4]!, {
    startTime: new Date(today - 2 * DAY_MS + 3_600_000).toISOString(),
    endTime: new Date(today - 2 * DAY_MS + 3_660_000).toISOString(),
  });

  async function get(query_: Record<string, string>) {
    const response = await query(httpEvent('GET', '/api/runs', { query: query_ }), lambdaContext);
    return {
      status: response.statusCode,
      headers: response.headers ?? {},
      body: JSON.parse(response.body ?? '{}'),
    };
  }

  beforeAll(async () => {
    fixture = await startDynamoFixture();
    await enforceRoles();
    shards = (await import('../../functions/store/run-item')).RUN_INDEX_SHARDS;
    query = asFunction('query', (await import('../../functions/query')).handler);
    const ingest = asFunction('ingest', (await import('../../functions/ingest')).handler) as never as (
      event: unknown,
      context: unknown,
    ) => Promise<{ statusCode?: number }>;
    for (let index = 0; index < runs.length; index += 100) {
      const body = JSON.stringify({ executions: runs.slice(index, index + 100) });
      const response = await ingest(httpEvent('POST', '/api/executions', { body }), lambdaContext);
      expect(response.statusCode).toBe(202);
    }
  });
  afterAll(async () => fixture?.stop());

  it('spreads a day over every shard and merges them newest first, page by page', async () => {
    // 1,200 runs over 90 days: the busiest week holds enough runs to fill every shard.
    const week = { startMs: today - 7 * DAY_MS, endMs: today };
    const partitions = new Set<string>();
    for (let ms = week.startMs; ms < week.endMs; ms += DAY_MS)
      for (let shard = 0; shard < shards; shard++) {
        const output = await fixture.client.send(
          new QueryCommand({
            TableName: 'Executions',
            IndexName: 'byStartTime',
            KeyConditionExpression: 'startShard = :p',
            ExpressionAttributeValues: { ':p': { S: `${day(ms)}#${shard}` } },
            Select: 'COUNT',
          }),
        );
        if ((output.Count ?? 0) > 0) partitions.add(String(shard));
      }
    expect(partitions.size).toBe(shards);

    const expected = runs
      .filter((run) => Date.parse(run.startTime) >= week.startMs && Date.parse(run.startTime) < week.endMs)
      .sort(newestFirst)
      .map((run) => run.executionId);
    expect(expected.length).toBeGreaterThan(60);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const parameters: Record<string, string> = {
        from: day(week.startMs),
        to: day(week.endMs - DAY_MS),
        limit: '13',
      };
      if (cursor) parameters.cursor = cursor;
      const { status, body } = await get(parameters);
      expect(status).toBe(200);
      seen.push(...body.runs.map((run: DatasetRun) => run.executionId));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it('reads a rare errorType over 90 days in budgeted pages whose cursor always advances', async () => {
    const { RUNS_PAGE_BUDGET } = await import('../../functions/store/runs-reader');
    const seen: string[] = [];
    const searched: string[] = [];
    let emptyPagesWithCursor = 0;
    let cursor: string | null = null;
    let pages = 0;
    do {
      const parameters: Record<string, string> = {
        from: day(from),
        to: day(today),
        errorType: 'RareBug',
        limit: '50',
      };
      if (cursor) parameters.cursor = cursor;
      const { status, headers, body } = await get(parameters);
      expect(status).toBe(200);
      // Bounded: the page's Queries fit its budget (x-items-read counts what they read).
      expect(Number(headers['x-items-read'])).toBeLessThanOrEqual(RUNS_PAGE_BUDGET.items + 1_000);
      seen.push(...body.runs.map((run: DatasetRun) => run.executionId));
      if (body.runs.length === 0 && body.nextCursor) emptyPagesWithCursor++;
      if (cursor) expect(body.nextCursor).not.toBe(cursor);
      searched.push(body.searchedTo);
      cursor = body.nextCursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor);
    // 90 days × shards Queries cannot fit one page's budget: the walk takes several pages.
    expect(pages).toBeGreaterThan(1);
    expect(emptyPagesWithCursor).toBeGreaterThan(0);
    expect([...searched].sort().reverse()).toEqual(searched); // each page searched further back
    expect(searched.at(-1)).toBe(new Date(from).toISOString());
    expect(seen).toEqual([...rare].sort(newestFirst).map((run) => run.executionId));
  });

  it('with a budget of one round of shards, walks 20 days a page or less at a time and finds each match once', async () => {
    const { readRunsPage } = await import('../../functions/store/runs-reader');
    const { ReadMeter } = await import('../../functions/store/query-pages');
    const filter = { startMs: today - 19 * DAY_MS, endMs: today + DAY_MS, models: [], errorType: 'RareBug' };
    const budget = { queries: shards, items: 10 };
    const found: string[] = [];
    let after: { position: string } | undefined;
    let pages = 0;
    do {
      const meter = new ReadMeter();
      const page = await runAs('query', () =>
        readRunsPage('Executions', filter, meter, { limit: 1, after, budget }),
      );
      expect(meter.queries).toBeLessThanOrEqual(shards); // one round of shards, never more
      if (after && page.next) expect(page.next.position < after.position).toBe(true);
      found.push(...page.runs.map((run) => run.executionId));
      after = page.next;
      pages++;
    } while (after);
    expect(pages).toBeGreaterThanOrEqual(20); // at least one page a day
    expect(found).toEqual(
      rare
        .filter((run) => Date.parse(run.startTime) >= filter.startMs)
        .sort(newestFirst)
        .map((run) => run.executionId),
    );
  });
});
