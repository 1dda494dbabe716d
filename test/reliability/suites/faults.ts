/**
 * Faults: the local runtime crashes mid-batch, its database restarts under
 * it, and clients race corrections of one run. After each, stored runs and
 * aggregates must agree exactly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, restartRuntime, startRuntime } from '../../support/runtime-harness';
import { restartDynamoDbLocal } from '../lib/dynamo-outage';
import { HttpClient, postWithRetry } from '../lib/http';
import { runPool } from '../lib/load';
import { makeRun, makeRuns, runId } from '../lib/runs';
import {
  aggregatedExecutions,
  comparable,
  countStoredRuns,
  dynamoClient,
  dynamoEndpointOf,
  readStoredRuns,
  type StoredRun,
  settleAggregates,
  totalsOfStoredRuns,
} from '../lib/truth';

export interface FaultScale {
  /** Runs waiting in the stream when the runtime is killed. */
  readonly crashRuns: number;
  /** How many times the runtime is killed while it aggregates. */
  readonly crashes: number;
  /** Runs sent by retrying clients while DynamoDB Local restarts. */
  readonly outageRuns: number;
  /** Distinct executionIds corrected concurrently, and versions sent of each. */
  readonly correctedIds: number;
  readonly versionsPerId: number;
  /** Bound on every wait for the aggregates to catch up. */
  readonly settleTimeoutMs: number;
}

/**
 * A fresh data directory, on tmpfs when there is one: DynamoDB Local's file
 * mode is several times slower on disk, and a process crash (what these suites
 * inject) leaves tmpfs contents exactly as a disk would.
 */
function freshDataDir(name: string): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, `reliability-${name}-`));
}

/** The runtime's log lines about 503s (the ingest handler names the store error it gave up on). */
function storeBusyLines(runtime: RuntimeProcess): string {
  return runtime
    .output()
    .split('\n')
    .filter((line) => /service_unavailable|store is busy|answered 5\d\d/.test(line))
    .slice(0, 5)
    .map((line) => line.slice(0, 400))
    .join('\n');
}

/** How many times each status or connection error occurred. */
function tallyOf(failures: readonly (number | string)[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const failure of failures) tally[String(failure)] = (tally[String(failure)] ?? 0) + 1;
  return tally;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Fields stored as the client sent them. */
const PLAIN_FIELDS = [
  'executionId',
  'startTime',
  'endTime',
  'status',
  'model',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'llmCalls',
  'toolCalls',
  'filesModified',
  'errorType',
  'errorMessage',
] as const;

/** The cost of a body in nanodollars (six-decimal costs convert exactly), undefined when unknown. */
function toNanos(body: Record<string, unknown>): number | undefined {
  return body.costUsd === null || body.costUsd === undefined
    ? undefined
    : Math.round(Number(body.costUsd) * 1e9);
}

/** True when the stored item is the run `body` describes. */
function sameRun(item: StoredRun, body: Record<string, unknown>): boolean {
  const storedNanos = item.costNanos === undefined ? undefined : Number(item.costNanos);
  return PLAIN_FIELDS.every((field) => item[field] === body[field]) && storedNanos === toNanos(body);
}

/** Sends `runs` in batches of `size` at `concurrency`, each POST retried through 5xx and dropped connections. */
async function sendWithRetries(
  http: HttpClient,
  runs: Record<string, unknown>[],
  options: { size: number; concurrency: number; deadlineMs: number },
): Promise<{ accepted: number; duplicates: number; failedAttempts: (number | string)[] }> {
  const result = { accepted: 0, duplicates: 0, failedAttempts: [] as (number | string)[] };
  await runPool(Math.ceil(runs.length / options.size), options.concurrency, async (index) => {
    const batch = runs.slice(index * options.size, (index + 1) * options.size);
    const outcome = await postWithRetry(http, { executions: batch }, { deadlineMs: options.deadlineMs });
    expect(outcome.answer.status, outcome.answer.body).toBe(202);
    const body = JSON.parse(outcome.answer.body) as { accepted: number; duplicates: number };
    result.accepted += body.accepted;
    result.duplicates += body.duplicates;
    result.failedAttempts.push(...outcome.failures);
  });
  return result;
}

export function faultSuites(scale: FaultScale): void {
  describe('a crash of the whole runtime while the stream poller is mid-batch', () => {
    let dataDir: string;
    let runtime: RuntimeProcess;
    let http: HttpClient;
    /** How many runs the aggregates counted when each kill came. */
    const countedAtKill: number[] = [];

    beforeAll(async () => {
      dataDir = freshDataDir('crash');
      runtime = await startRuntime({ dataDir });
      http = new HttpClient(runtime.baseUrl, { maxSockets: 16 });
    });
    afterAll(async () => {
      http?.close();
      await runtime?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it(`keeps counters exact through ${scale.crashes} SIGKILLs while ${scale.crashRuns} runs arrive and are aggregated`, async () => {
      // Prepare: runs spread over four weeks, so every batch touches many aggregate items.
      const runs = makeRuns('crash', 0, scale.crashRuns);
      let sendingDone = false;

      // Act: clients send, retrying through every crash (the port stays the same), while each
      // time the poller has made progress and is not done, the whole runtime is killed at once.
      const sending = sendWithRetries(http, runs, {
        size: 50,
        concurrency: 8,
        deadlineMs: Date.now() + 300_000,
      });
      void sending.then(
        () => (sendingDone = true),
        () => (sendingDone = true),
      );
      for (let crash = 0; crash < scale.crashes; crash++) {
        const first = await aggregatedExecutions(http);
        const deadline = Date.now() + 60_000;
        let now = first;
        while (now === first && Date.now() < deadline) {
          await delay(50);
          now = await aggregatedExecutions(http);
        }
        if (now >= scale.crashRuns && sendingDone) break; // caught up before we could crash it again
        await delay(Math.floor(Math.random() * 150));
        await runtime.kill();
        countedAtKill.push(now);
        runtime = await restartRuntime(runtime);
      }
      const sent = await sending;
      const dynamo = dynamoClient(dynamoEndpointOf(runtime));
      const settled = await settleAggregates(http, dynamo, { timeoutMs: scale.settleTimeoutMs });
      const stored = await countStoredRuns(dynamo);
      dynamo.destroy();
      console.log(
        `[reliability-faults] crash: killed with ${countedAtKill.join(', ')} of ${scale.crashRuns} runs counted; ` +
          `failed attempts retried: ${JSON.stringify(tallyOf(sent.failedAttempts))}; settled ${settled.settledAfterMs} ms after the last restart`,
      );
      const busy = storeBusyLines(runtime);
      if (busy) console.log(`[reliability-faults] crash: the runtime's 5xx lines:\n${busy}`);

      // Assess
      expect(countedAtKill.length).toBeGreaterThan(0);
      // A POST retried after a crash or a 503 finds what its first attempt stored: duplicates.
      expect(sent.accepted + sent.duplicates).toBe(scale.crashRuns);
      expect(stored).toBe(scale.crashRuns);
      expect(settled.api.executions).toBe(scale.crashRuns);
      expect(comparable(settled.api)).toEqual(comparable(settled.truth));
    });
  });

  describe('DynamoDB Local stopped and restarted under the runtime while runs are being sent', () => {
    let dataDir: string;
    let runtime: RuntimeProcess;
    let http: HttpClient;
    let dynamo: DynamoDBClient;
    let restarted: { stop(): Promise<void> } | undefined;

    beforeAll(async () => {
      dataDir = freshDataDir('outage');
      runtime = await startRuntime({ dataDir });
      http = new HttpClient(runtime.baseUrl, { maxSockets: 16 });
      dynamo = dynamoClient(dynamoEndpointOf(runtime));
    });
    afterAll(async () => {
      http?.close();
      dynamo?.destroy();
      await runtime?.stop();
      await restarted?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('ends with every run stored once and counted once, for clients that retry', async () => {
      // Prepare
      const runs = makeRuns('outage', 0, scale.outageRuns);
      const deadlineMs = Date.now() + 240_000;

      // Act: send in the background; restart the database once a third is in.
      const sending = sendWithRetries(http, runs, { size: 10, concurrency: 8, deadlineMs });
      while ((await countStoredRuns(dynamo)) < scale.outageRuns / 3) await delay(100);
      const outage = await restartDynamoDbLocal(runtime, 2_000);
      restarted = outage;
      const sent = await sending;
      const settled = await settleAggregates(http, dynamo, { timeoutMs: scale.settleTimeoutMs });
      const stored = await readStoredRuns(dynamo);
      console.log(
        `[reliability-faults] outage: ${outage.outageMs} ms down; retried attempts ${JSON.stringify(tallyOf(sent.failedAttempts))}; settled after ${settled.settledAfterMs} ms`,
      );

      // Assess
      expect(runtime.isAlive()).toBe(true);
      expect(sent.accepted + sent.duplicates).toBe(scale.outageRuns);
      expect(new Set(stored.map((item) => item.executionId)).size).toBe(scale.outageRuns);
      expect(stored.length).toBe(scale.outageRuns);
      expect(settled.api.executions).toBe(scale.outageRuns);
      expect(comparable(settled.api)).toEqual(comparable(settled.truth));
    });
  });

  describe('concurrent corrections of the same executionId', () => {
    let runtime: RuntimeProcess;
    let http: HttpClient;
    let dynamo: DynamoDBClient;
    const ids = Array.from({ length: scale.correctedIds }, (_, index) => runId('corr', index));
    const version = (index: number, v: number) => makeRun('corr', index, v);

    beforeAll(async () => {
      runtime = await startRuntime();
      http = new HttpClient(runtime.baseUrl, { maxSockets: 32 });
      dynamo = dynamoClient(dynamoEndpointOf(runtime));
    });
    afterAll(async () => {
      http?.close();
      dynamo?.destroy();
      await runtime?.stop();
    });

    it(`stores one of the ${scale.versionsPerId} racing versions of each run, and the aggregates count exactly that one`, async () => {
      // Prepare: every version of every id, in an interleaved order.
      const writes = ids.flatMap((_, index) =>
        Array.from({ length: scale.versionsPerId }, (_, v) => ({ index, v })),
      );
      writes.sort(
        (a, b) => ((a.index * 7919 + a.v * 104_729) % 1009) - ((b.index * 7919 + b.v * 104_729) % 1009),
      );

      // Act
      await runPool(writes.length, 32, async (position) => {
        const write = writes[position] as { index: number; v: number };
        const answer = await http.postRuns(version(write.index, write.v));
        expect(answer.status, answer.body).toBe(202);
      });
      const settled = await settleAggregates(http, dynamo, { timeoutMs: scale.settleTimeoutMs });
      const stored = new Map((await readStoredRuns(dynamo)).map((item) => [String(item.executionId), item]));

      // Assess
      const notOneOfTheWrites = ids.filter((id, index) => {
        const item = stored.get(id);
        return (
          !item ||
          !Array.from({ length: scale.versionsPerId }, (_, v) => version(index, v)).some((body) =>
            sameRun(item, body),
          )
        );
      });
      expect(notOneOfTheWrites).toEqual([]);
      expect(settled.api.executions).toBe(scale.correctedIds);
      expect(comparable(settled.api)).toEqual(comparable(settled.truth));
    });

    it('ends equal to the last acknowledged correction, in the table and in every aggregate', async () => {
      // Prepare: one more version of each id, sent after every earlier write was acknowledged.
      const last = scale.versionsPerId;
      const finalBodies = ids.map((_, index) => version(index, last));

      // Act
      await runPool(finalBodies.length, 16, async (index) => {
        const answer = await http.postRuns(finalBodies[index]);
        expect(answer.status, answer.body).toBe(202);
      });
      const settled = await settleAggregates(http, dynamo, { timeoutMs: scale.settleTimeoutMs });
      const stored = await readStoredRuns(dynamo);
      const byId = new Map(stored.map((item) => [String(item.executionId), item]));
      // Estimates are made at ingest from the price table: the stored one is the run's.
      const expected = totalsOfStoredRuns(
        finalBodies.map((body) => ({
          ...body,
          costNanos: toNanos(body),
          estimatedCostNanos: byId.get(String(body.executionId))?.estimatedCostNanos,
        })),
      );

      // Assess
      expect(ids.filter((id, index) => !sameRun(byId.get(id) ?? {}, finalBodies[index] ?? {}))).toEqual([]);
      expect(comparable(settled.api)).toEqual(comparable(expected));
    });

    it('keeps the later item when one batch carries several versions of a run', async () => {
      // Prepare
      const index = scale.correctedIds; // a fresh id
      const bodies = [1, 2, 3].map((v) => version(index, v));

      // Act
      const answer = await http.postRuns({ executions: bodies });
      const settled = await settleAggregates(http, dynamo, { timeoutMs: scale.settleTimeoutMs });
      const stored = (await readStoredRuns(dynamo)).find((item) => item.executionId === runId('corr', index));

      // Assess
      expect(answer.status, answer.body).toBe(202);
      expect(sameRun(stored ?? {}, bodies[2] ?? {})).toBe(true);
      expect(comparable(settled.api)).toEqual(comparable(settled.truth));
    });
  });
}
