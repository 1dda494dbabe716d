/**
 * The truth a reliability suite compares the dashboard with: the runs stored
 * in the Executions table, read straight from DynamoDB Local (not through the
 * API), and the totals recomputed from them.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { localAwsSettings } from '../../../local/dynamodb-local';
import type { RuntimeProcess } from '../../support/runtime-harness';
import type { HttpClient } from './http';
import { RUN_WINDOW } from './runs';

/**
 * DynamoDB Local's endpoint for a running runtime: its own log line when it
 * prints one, else the `-port` argument of the Java process it started.
 */
export function dynamoEndpointOf(runtime: RuntimeProcess): string {
  // local/runtime.ts prints "DynamoDB Local on port N (pid P)".
  const printed = runtime.output().match(/DynamoDB Local on port (\d+)/);
  if (printed?.[1]) return `http://127.0.0.1:${printed[1]}`;
  for (const pid of runtime.descendants()) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const portIndex = args.indexOf('-port');
    if (args.some((arg) => arg.endsWith('DynamoDBLocal.jar')) && portIndex >= 0) {
      return `http://127.0.0.1:${args[portIndex + 1]}`;
    }
  }
  throw new Error(`cannot find DynamoDB Local's endpoint for runtime ${runtime.pid}:\n${runtime.tail()}`);
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: localAwsSettings.region,
    credentials: {
      accessKeyId: localAwsSettings.accessKeyId,
      secretAccessKey: localAwsSettings.secretAccessKey,
    },
  });
}

const SEGMENTS = 4;

async function scanAll(
  client: DynamoDBClient,
  tableName: string,
  onPage: (page: ScanCommandOutput) => void,
  select?: 'COUNT',
): Promise<void> {
  await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let startKey: ScanCommandOutput['LastEvaluatedKey'];
      do {
        const page = await client.send(
          new ScanCommand({
            TableName: tableName,
            Segment: segment,
            TotalSegments: SEGMENTS,
            ExclusiveStartKey: startKey,
            ...(select ? { Select: select } : {}),
          }),
        );
        onPage(page);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
}

/** Number of items in the Executions table, by a parallel Scan with Select COUNT. */
export async function countStoredRuns(client: DynamoDBClient): Promise<number> {
  let count = 0;
  await scanAll(
    client,
    'Executions',
    (page) => {
      count += page.Count ?? 0;
    },
    'COUNT',
  );
  return count;
}

export type StoredRun = Record<string, unknown>;

/** Every item of the Executions table, unmarshalled. */
export async function readStoredRuns(client: DynamoDBClient): Promise<StoredRun[]> {
  const items: StoredRun[] = [];
  await scanAll(client, 'Executions', (page) => {
    for (const item of page.Items ?? []) items.push(unmarshall(item));
  });
  return items;
}

/** The figures every suite compares: what the aggregates must say about a set of runs. */
export interface Totals {
  executions: number;
  successes: number;
  failures: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  /** Exact, in nanodollars: reported plus estimated, as the API's cost.totalUsd. */
  costNanos: bigint;
  runsWithUnknownCost: number;
  llmCalls: number;
  toolCalls: number;
  filesModified: number;
  /** model → executions / successes / failures */
  models: Record<string, { executions: number; successes: number; failures: number }>;
  /** errorType → failures (a failure without a type counts as Unknown) */
  errors: Record<string, number>;
}

function emptyTotals(): Totals {
  return {
    executions: 0,
    successes: 0,
    failures: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    costNanos: 0n,
    runsWithUnknownCost: 0,
    llmCalls: 0,
    toolCalls: 0,
    filesModified: 0,
    models: {},
    errors: {},
  };
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));

/** Recomputes the totals of stored Executions items (the truth). */
export function totalsOfStoredRuns(items: readonly StoredRun[]): Totals {
  const totals = emptyTotals();
  for (const item of items) {
    const success = item.status === 'success';
    totals.executions++;
    if (success) totals.successes++;
    else totals.failures++;
    totals.tokens.input += num(item.inputTokens);
    totals.tokens.output += num(item.outputTokens);
    totals.tokens.cacheRead += num(item.cacheReadTokens);
    totals.tokens.cacheWrite += num(item.cacheWriteTokens);
    // The API's total cost is reported plus estimated; the estimate was made at ingest and stored.
    const cost = item.costNanos ?? item.estimatedCostNanos;
    if (cost === undefined) totals.runsWithUnknownCost++;
    else totals.costNanos += BigInt(cost as number | string | bigint);
    totals.llmCalls += num(item.llmCalls);
    totals.toolCalls += num(item.toolCalls);
    totals.filesModified += num(item.filesModified);
    const model = String(item.model);
    const perModel = totals.models[model] ?? { executions: 0, successes: 0, failures: 0 };
    totals.models[model] = perModel;
    perModel.executions++;
    if (success) perModel.successes++;
    else perModel.failures++;
    if (!success) {
      const errorType = typeof item.errorType === 'string' ? item.errorType : 'Unknown';
      totals.errors[errorType] = (totals.errors[errorType] ?? 0) + 1;
    }
  }
  return totals;
}

/** Dollars as the API prints them → exact nanodollars (exact below ~$9 M). */
function usdToNanos(usd: number): bigint {
  return BigInt(Math.round(usd * 1e9));
}

interface SummaryBody {
  executions: number;
  successes: number;
  failures: number;
  cost: { totalUsd: number; runsWithUnknownCost: number };
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  llmCalls: { total: number };
  toolCalls: { total: number };
  filesModified: { total: number };
}
interface ModelsBody {
  models: { model: string; executions: number; successes: number; failures: number }[];
}
interface ErrorsBody {
  totalFailures: number;
  errors: { errorType: string; count: number }[];
  other: { count: number };
}

const windowQuery = `from=${RUN_WINDOW.from}&to=${RUN_WINDOW.to}`;

/** The summary's executions over the whole run window. */
export async function aggregatedExecutions(http: HttpClient): Promise<number> {
  return (await http.getJson<SummaryBody>(`/api/summary?${windowQuery}`)).executions;
}

/** What /api/summary, /api/models and /api/errors say over the run window, as Totals. */
export async function totalsFromApi(http: HttpClient): Promise<Totals> {
  const [summary, models, errors] = await Promise.all([
    http.getJson<SummaryBody>(`/api/summary?${windowQuery}`),
    http.getJson<ModelsBody>(`/api/models?${windowQuery}`),
    http.getJson<ErrorsBody>(`/api/errors?${windowQuery}&limit=50`),
  ]);
  const totals = emptyTotals();
  totals.executions = summary.executions;
  totals.successes = summary.successes;
  totals.failures = summary.failures;
  totals.tokens = {
    input: summary.tokens.input,
    output: summary.tokens.output,
    cacheRead: summary.tokens.cacheRead,
    cacheWrite: summary.tokens.cacheWrite,
  };
  totals.costNanos = usdToNanos(summary.cost.totalUsd);
  totals.runsWithUnknownCost = summary.cost.runsWithUnknownCost;
  totals.llmCalls = summary.llmCalls.total;
  totals.toolCalls = summary.toolCalls.total;
  totals.filesModified = summary.filesModified.total;
  for (const row of models.models) {
    // A model whose runs were all corrected away may linger with zero counts.
    if (row.executions === 0) continue;
    totals.models[row.model] = {
      executions: row.executions,
      successes: row.successes,
      failures: row.failures,
    };
  }
  for (const row of errors.errors) if (row.count !== 0) totals.errors[row.errorType] = row.count;
  if (errors.other.count !== 0) totals.errors['(other)'] = errors.other.count;
  return totals;
}

const sortedEntries = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** A JSON-friendly view of Totals (bigint as a decimal string, keys sorted), for toEqual and for messages. */
export function comparable(totals: Totals): Record<string, unknown> {
  return {
    ...totals,
    costNanos: totals.costNanos.toString(),
    models: sortedEntries(totals.models),
    errors: sortedEntries(totals.errors),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Polls the API until its totals equal the truth recomputed from the
 * Executions table (re-read each round, so corrections in flight settle), or
 * until `timeoutMs`. Returns the last pair either way; the caller asserts.
 *
 * Waiting for the summary's count alone is not enough: the summary reads the
 * all-models rollup, and a batch writes the rollup and each model's items
 * concurrently, so the models and errors can be a write behind for a moment.
 * `isRun` leaves out stored items that are not runs (poison).
 */
export async function settleAggregates(
  http: HttpClient,
  dynamo: DynamoDBClient,
  options: { timeoutMs: number; pollMs?: number; isRun?: (item: StoredRun) => boolean },
): Promise<{ truth: Totals; api: Totals; settledAfterMs: number | null }> {
  const started = Date.now();
  for (;;) {
    const truth = totalsOfStoredRuns((await readStoredRuns(dynamo)).filter(options.isRun ?? (() => true)));
    const api = await totalsFromApi(http);
    const same = JSON.stringify(comparable(truth)) === JSON.stringify(comparable(api));
    if (same) return { truth, api, settledAfterMs: Date.now() - started };
    if (Date.now() - started > options.timeoutMs) return { truth, api, settledAfterMs: null };
    await delay(options.pollMs ?? 500);
  }
}

/**
 * Polls /api/summary until it counts `expected` executions over the window
 * (cheap: no table scan), or until `timeoutMs`. Returns the last count.
 */
export async function waitForAggregatedExecutions(
  http: HttpClient,
  expected: number,
  options: { timeoutMs: number; pollMs?: number },
): Promise<{ executions: number; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const executions = await aggregatedExecutions(http);
    const waitedMs = Date.now() - started;
    if (executions === expected || waitedMs > options.timeoutMs) return { executions, waitedMs };
    await delay(options.pollMs ?? 500);
  }
}
