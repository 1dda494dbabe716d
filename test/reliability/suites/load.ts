/**
 * Load: many runs through the running local runtime, the way a fleet of
 * agents sends them, then an exact reconciliation of ids sent, runs stored
 * and runs counted.
 *
 * Phase 1 sends batches of 20 at concurrency 32; one request in ten is sent
 * twice (half of those twice at once, as a client retry racing its original,
 * half again after the first answer). Phase 2 sends single runs at
 * concurrency 64. Every request gets its answer recorded: status, latency and
 * the `accepted` / `duplicates` counts, which must add up exactly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, startRuntime } from '../../support/runtime-harness';
import { ConnectionError, type HttpAnswer, HttpClient } from '../lib/http';
import { type PhaseFigures, PhaseRecorder, runPool } from '../lib/load';
import { makeRuns, runId } from '../lib/runs';
import {
  comparable,
  countStoredRuns,
  dynamoClient,
  dynamoEndpointOf,
  readStoredRuns,
  type StoredRun,
  settleAggregates,
  waitForAggregatedExecutions,
} from '../lib/truth';

export interface LoadScale {
  /** Runs sent in batches of 20 (a multiple of 20). */
  readonly batchedRuns: number;
  /** Runs sent one per request afterwards. */
  readonly singleRuns: number;
  /** How long the stream may take to catch up after the last answer. */
  readonly drainTimeoutMs: number;
  /** Where to write the figures (bench/ keeps them); printed only when absent. */
  readonly resultsFile?: string;
}

const BATCH_SIZE = 20;
const BATCH_CONCURRENCY = 32;
const SINGLE_CONCURRENCY = 64;
/** One request in this many is sent twice. */
const DUPLICATE_EVERY = 10;
const PREFIX = 'load';
/** Live traffic: every run starts within the same few hours, as when agents report runs as they finish. */
const SHAPE = { hours: 6 } as const;

interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected: unknown[];
}

/**
 * POSTs one body, recording every attempt. A 5xx or a dropped connection is
 * recorded (the suite asserts there are none) and retried, so that the exact
 * reconciliation below still means something if one happens.
 */
async function postRecorded(http: HttpClient, recorder: PhaseRecorder, body: unknown, runs: number) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    let answer: HttpAnswer;
    const started = performance.now();
    try {
      answer = await http.postRuns(body);
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      recorder.record(error.code ?? 'connection-error', performance.now() - started, 0);
      continue;
    }
    recorder.record(answer.status, answer.latencyMs, answer.status < 300 ? runs : 0);
    if (answer.status < 500) return { status: answer.status, body: JSON.parse(answer.body) as IngestAnswer };
    await new Promise((done) => setTimeout(done, 200 * attempt));
  }
  throw new Error('a POST failed 5 times in a row');
}

export function loadSuite(scale: LoadScale): void {
  const totalRuns = scale.batchedRuns + scale.singleRuns;
  const batchRequests = scale.batchedRuns / BATCH_SIZE;

  describe(`the local runtime under load (${totalRuns} runs)`, () => {
    let runtime: RuntimeProcess;
    let http: HttpClient;
    let dynamo: DynamoDBClient;
    const phases: PhaseFigures[] = [];
    const counted = { accepted: 0, duplicates: 0, rejected: 0, nonAccepted: [] as string[] };
    let drain: { executions: number; catchUpMs: number } | undefined;
    let lastAnswerAt = 0;
    let storedItems: StoredRun[] | undefined;

    beforeAll(async () => {
      runtime = await startRuntime();
      http = new HttpClient(runtime.baseUrl, { maxSockets: SINGLE_CONCURRENCY + 8 });
      dynamo = dynamoClient(dynamoEndpointOf(runtime));
    });
    afterAll(async () => {
      reportFigures();
      http?.close();
      dynamo?.destroy();
      await runtime?.stop();
    });

    const sendingSeconds = () => phases.reduce((sum, phase) => sum + phase.seconds, 0);

    /** Prints the figures, and writes them where bench/ keeps them once the full run passed. */
    function reportFigures(): void {
      const figures = {
        suite: 'reliability-load',
        measuredAt: new Date().toISOString(),
        machine: { cpus: cpus().length, node: process.version, platform: process.platform },
        command: scale.resultsFile ? 'npm run test:reliability' : 'npm test',
        // The runtime child takes its shard count from the same variable (local/cli.ts).
        streamShards: Number(process.env.STREAM_SHARDS || 1),
        runs: {
          sent: totalRuns,
          batched: scale.batchedRuns,
          single: scale.singleRuns,
          accepted: counted.accepted,
          duplicates: counted.duplicates,
          rejected: counted.rejected,
        },
        // Distinct runs per second of sending, both phases together (re-sent requests not counted).
        ingest: {
          runs: totalRuns,
          seconds: Math.round(sendingSeconds() * 10) / 10,
          runsPerSecond: Math.round(totalRuns / sendingSeconds()),
        },
        phases,
        // From the last answer to the moment the summary counted every run.
        aggregation: drain ?? null,
      };
      const text = `${JSON.stringify(figures, null, 2)}\n`;
      console.log(`\n[reliability-load] figures:\n${text}`);
      if (scale.resultsFile && phases.length === 2 && drain?.executions === totalRuns) {
        mkdirSync(dirname(scale.resultsFile), { recursive: true });
        writeFileSync(scale.resultsFile, text);
      }
    }

    function tally(status: number, body: IngestAnswer, what: string) {
      counted.accepted += body.accepted;
      counted.duplicates += body.duplicates;
      counted.rejected += body.rejected.length;
      if (status !== 202)
        counted.nonAccepted.push(`${what}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
    }

    it(`accepts ${scale.batchedRuns} runs in batches of ${BATCH_SIZE} at concurrency ${BATCH_CONCURRENCY}, one request in ${DUPLICATE_EVERY} sent twice, without a 5xx`, async () => {
      // Prepare
      const recorder = new PhaseRecorder(
        `batches of ${BATCH_SIZE}, concurrency ${BATCH_CONCURRENCY}, 10 % sent twice`,
        scale.resultsFile ? scale.batchedRuns * 1.1 : undefined,
      );

      // Act
      await runPool(batchRequests, BATCH_CONCURRENCY, async (request) => {
        const body = { executions: makeRuns(PREFIX, request * BATCH_SIZE, BATCH_SIZE, 0, SHAPE) };
        if (request % (2 * DUPLICATE_EVERY) === 0) {
          // A retry racing its original: between them, each run is new exactly once.
          const pair = await Promise.all([
            postRecorded(http, recorder, body, BATCH_SIZE),
            postRecorded(http, recorder, body, BATCH_SIZE),
          ]);
          for (const answer of pair) tally(answer.status, answer.body, `batch ${request} (racing pair)`);
          expect(pair[0].body.accepted + pair[1].body.accepted).toBe(BATCH_SIZE);
        } else {
          const first = await postRecorded(http, recorder, body, BATCH_SIZE);
          tally(first.status, first.body, `batch ${request}`);
          if (request % DUPLICATE_EVERY === 0) {
            const again = await postRecorded(http, recorder, body, BATCH_SIZE);
            tally(again.status, again.body, `batch ${request} (re-sent)`);
            expect(again.body).toMatchObject({ accepted: 0, duplicates: BATCH_SIZE });
          }
        }
      });
      phases.push(recorder.figures());
      lastAnswerAt = Date.now();

      // Assess
      expect(recorder.serverErrors(), JSON.stringify(recorder.figures().statuses)).toBe(0);
      expect(counted.nonAccepted).toEqual([]);
      expect(counted.accepted).toBe(scale.batchedRuns);
      expect(counted.duplicates).toBe((batchRequests / DUPLICATE_EVERY) * BATCH_SIZE);
    });

    it(`accepts ${scale.singleRuns} single runs at concurrency ${SINGLE_CONCURRENCY} without a 5xx`, async () => {
      // Prepare
      const recorder = new PhaseRecorder(
        `single runs, concurrency ${SINGLE_CONCURRENCY}`,
        scale.resultsFile ? scale.singleRuns : undefined,
      );
      const before = counted.accepted;

      // Act
      await runPool(scale.singleRuns, SINGLE_CONCURRENCY, async (offset) => {
        const [run] = makeRuns(PREFIX, scale.batchedRuns + offset, 1, 0, SHAPE);
        const answer = await postRecorded(http, recorder, run, 1);
        tally(answer.status, answer.body, `single ${offset}`);
      });
      phases.push(recorder.figures());
      lastAnswerAt = Date.now();

      // Assess
      expect(recorder.serverErrors(), JSON.stringify(recorder.figures().statuses)).toBe(0);
      expect(counted.nonAccepted).toEqual([]);
      expect(counted.accepted - before).toBe(scale.singleRuns);
    });

    it('counts every stored run exactly once in the aggregates, to the last token and nanodollar', async () => {
      // Act
      const aggregated = await waitForAggregatedExecutions(http, totalRuns, {
        timeoutMs: scale.drainTimeoutMs,
      });
      drain = { executions: aggregated.executions, catchUpMs: Date.now() - lastAnswerAt };
      storedItems = await readStoredRuns(dynamo);
      // The summary's count can lead the models and errors by a write (see settleAggregates).
      const { truth, api } = await settleAggregates(http, dynamo, { timeoutMs: scale.drainTimeoutMs });

      // Assess
      expect(drain.executions).toBe(totalRuns);
      expect(comparable(api)).toEqual(comparable(truth));
    });

    it('stores exactly the ids sent, each once', async () => {
      // Act
      const stored = await countStoredRuns(dynamo);
      // The items the previous test read (a full scan of 100 k items takes a minute here).
      const items = storedItems ?? (await readStoredRuns(dynamo));
      const ids = new Set(items.map((item) => String(item.executionId)));

      // Assess
      expect(stored).toBe(totalRuns);
      expect(ids.size).toBe(totalRuns);
      const missing = Array.from({ length: totalRuns }, (_, index) => runId(PREFIX, index)).filter(
        (id) => !ids.has(id),
      );
      expect(missing.slice(0, 10)).toEqual([]);
    });
  });
}
