/**
 * Hostile input: thousands of generated invalid requests against the running
 * local runtime. Every answer must be a 4xx JSON error with a message; the
 * process must stay up and healthy; and since every request is invalid, no
 * stored run and no aggregate may change.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, startRuntime } from '../../support/runtime-harness';
import {
  brokenFraming,
  CSV_DAY,
  connectRequest,
  contractViolation,
  describeRequest,
  fieldNotNamed,
  type HostileRequest,
  hostileRequest,
  namedCases,
  oversizedCsvRuns,
  rawNamedCases,
  rawViolation,
  stalledRequests,
} from '../lib/hostile';
import { ConnectionError, type HttpAnswer, HttpClient, parseRawResponse, sendRaw } from '../lib/http';
import { percentile, runPool } from '../lib/load';
import { makeRuns } from '../lib/runs';
import {
  comparable,
  countStoredRuns,
  dynamoClient,
  dynamoEndpointOf,
  settleAggregates,
  type Totals,
  totalsFromApi,
} from '../lib/truth';

export interface HostileScale {
  /** Requests to send in all (at least this many). */
  readonly requests: number;
  /** fast-check seed, so a failure can be replayed. */
  readonly seed: number;
}

/** Requests per property run, sent at once. */
const GROUP = 8;
const SEED_RUNS = 400;
/** Runs that make the CSV of CSV_DAY pass 5.5 MB: ~6.1 KB of row each. */
const CSV_RUNS = 1_000;

export function hostileSuite(scale: HostileScale): void {
  describe(`the local runtime under hostile input (${scale.requests} generated requests)`, () => {
    let runtime: RuntimeProcess;
    let http: HttpClient;
    let dynamo: DynamoDBClient;
    let before: { api: Totals; stored: number };
    const tally = new Map<string, number>();
    const latencies: number[] = [];
    let sent = 0;

    beforeAll(async () => {
      runtime = await startRuntime();
      http = new HttpClient(runtime.baseUrl, { maxSockets: GROUP });
      dynamo = dynamoClient(dynamoEndpointOf(runtime));
      // Real runs first, so that "unchanged" compares non-empty aggregates.
      for (let first = 0; first < SEED_RUNS; first += 100) {
        const answer = await http.postRuns({ executions: makeRuns('hostile-seed', first, 100) });
        expect(answer.status).toBe(202);
      }
      for (let first = 0; first < CSV_RUNS; first += 100) {
        const answer = await http.postRuns({ executions: oversizedCsvRuns(first, 100) });
        expect(answer.status, answer.body.slice(0, 300)).toBe(202);
      }
      const settled = await settleAggregates(http, dynamo, { timeoutMs: 60_000 });
      expect(settled.api.executions).toBe(SEED_RUNS + CSV_RUNS);
      before = { api: settled.api, stored: await countStoredRuns(dynamo) };
    });
    afterAll(async () => {
      http?.close();
      dynamo?.destroy();
      await runtime?.stop();
    });

    async function answerOf(hostile: HostileRequest): Promise<HttpAnswer | ConnectionError> {
      sent++;
      const kind = hostile.kind.replace(/:.*$/, '');
      tally.set(kind, (tally.get(kind) ?? 0) + 1);
      try {
        const answer = await http.send(hostile.request);
        latencies.push(answer.latencyMs);
        return answer;
      } catch (error) {
        if (error instanceof ConnectionError) return error;
        throw error;
      }
    }

    it('answers every generated invalid request with a 4xx JSON error that carries a message', async () => {
      // Prepare
      const violations: string[] = [];
      const property = fc.asyncProperty(
        fc.array(hostileRequest, { minLength: GROUP, maxLength: GROUP }),
        async (requests) => {
          const found: string[] = [];
          await runPool(requests.length, GROUP, async (index) => {
            const hostile = requests[index] as HostileRequest;
            const answer = await answerOf(hostile);
            const problem =
              answer instanceof ConnectionError
                ? `no answer (${answer.code ?? answer.message})`
                : contractViolation(hostile, answer);
            if (problem) {
              const body = answer instanceof ConnectionError ? '' : ` → ${answer.body.slice(0, 300)}`;
              found.push(`${problem}: ${describeRequest(hostile)}${body}`);
            }
          });
          violations.push(...found);
          return found.length === 0;
        },
      );

      // Act
      const result = await fc.check(property, {
        numRuns: Math.ceil(scale.requests / GROUP),
        seed: scale.seed,
        // Shrinking re-sends requests; a few dozen steps find a small example.
        endOnFailure: false,
        maxSkipsPerRun: 0,
        interruptAfterTimeLimit: 15 * 60_000,
      });

      // Assess
      console.log(
        `[reliability-hostile] seed ${scale.seed}: ${sent} requests, answer latency p50 ${percentile(latencies, 50)?.toFixed(1)} ms, p99 ${percentile(latencies, 99)?.toFixed(1)} ms; by kind: ${JSON.stringify(Object.fromEntries([...tally].sort((a, b) => b[1] - a[1])))}`,
      );
      const distinct = [...new Set(violations.map((line) => line.slice(0, 400)))];
      expect(
        distinct.slice(0, 15),
        `seed ${scale.seed}; first counterexample: ${fc.stringify(result.counterexample)}`,
      ).toEqual([]);
      expect(result.failed).toBe(false);
      expect(sent).toBeGreaterThanOrEqual(scale.requests);
    });

    it('answers broken HTTP framing with a 4xx JSON error', async () => {
      // Act
      const answers = await Promise.all(
        brokenFraming.map(async ({ kind, bytes }) => ({
          kind,
          problem: rawViolation(parseRawResponse(await sendRaw(runtime.port, bytes))),
        })),
      );

      // Assess
      expect(answers.filter((answer) => answer.problem !== null)).toEqual([]);
    });

    it('answers CONNECT with a 4xx JSON error instead of dropping the connection', async () => {
      // Act
      const answer = parseRawResponse(await sendRaw(runtime.port, connectRequest.bytes));

      // Assess
      expect(rawViolation(answer)).toBeNull();
    });

    /** GET /api/health, which must answer 200 at once (a 5 s timeout stands for "never"). */
    async function healthAnswers(): Promise<string | null> {
      try {
        const health = await http.send({ method: 'GET', path: '/api/health', timeoutMs: 5_000 });
        return health.status === 200 ? null : `health answered ${health.status}`;
      } catch (error) {
        return `health did not answer: ${(error as Error).message}`;
      }
    }

    it('answers each hardening case (issue 12) with a 4xx JSON error naming the field, and health right after', async () => {
      // Prepare
      const cases = namedCases(Date.now());
      const problems: string[] = [];

      // Act
      for (const hostile of cases) {
        const answer = await http.send(hostile.request);
        const problem =
          contractViolation(
            { kind: hostile.kind, request: hostile.request, expectedStatus: hostile.status },
            answer,
          ) ??
          fieldNotNamed(answer.body, hostile.field) ??
          (await healthAnswers());
        if (problem) problems.push(`[${hostile.kind}] ${problem}`);
      }
      for (const hostile of rawNamedCases) {
        const answer = parseRawResponse(await sendRaw(runtime.port, hostile.bytes));
        const problem =
          rawViolation(answer) ??
          (answer?.status === hostile.status
            ? null
            : `status ${answer?.status}, expected ${hostile.status}`) ??
          fieldNotNamed(answer?.body ?? '', hostile.field) ??
          (await healthAnswers());
        if (problem) problems.push(`[${hostile.kind}] ${problem}`);
      }

      // Assess
      expect(problems).toEqual([]);
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it('answers stalled headers and bodies with 408 JSON, serving health meanwhile', async () => {
      // Act: the stalled requests stay open while health is asked.
      const stalled = Promise.all(
        stalledRequests.map(async ({ kind, bytes }) => {
          const answer = parseRawResponse(await sendRaw(runtime.port, bytes, 30_000));
          return { kind, status: answer?.status, problem: rawViolation(answer) };
        }),
      );
      const healthMeanwhile = await healthAnswers();
      const answers = await stalled;

      // Assess
      expect(healthMeanwhile).toBeNull();
      expect(answers).toEqual(stalledRequests.map(({ kind }) => ({ kind, status: 408, problem: null })));
      expect(await healthAnswers()).toBeNull();
    });

    it('answers HEAD on /api/* like GET, without a body', async () => {
      // Act
      const head = await http.send({ method: 'HEAD', path: `/api/summary?from=${CSV_DAY}&to=${CSV_DAY}` });
      const get = await http.send({ method: 'GET', path: `/api/summary?from=${CSV_DAY}&to=${CSV_DAY}` });

      // Assess
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
    });

    it('stays up and healthy, and logs no unhandled error', async () => {
      // Act
      const health = await http.send({ method: 'GET', path: '/api/health' });

      // Assess
      expect(runtime.isAlive()).toBe(true);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
      expect(runtime.output()).not.toMatch(
        /unhandled error|internal_error|uncaught|FATAL|heap out of memory/i,
      );
    });

    it('leaves every stored run and every aggregate as it was', async () => {
      // Prepare: let the stream deliver anything a request might have written by mistake.
      await new Promise((done) => setTimeout(done, 2_000));

      // Act
      const stored = await countStoredRuns(dynamo);
      const settled = await settleAggregates(http, dynamo, { timeoutMs: 30_000 });
      const api = await totalsFromApi(http);

      // Assess
      expect(stored).toBe(before.stored);
      expect(comparable(api)).toEqual(comparable(before.api));
      expect(comparable(settled.truth)).toEqual(comparable(before.api));
    });
  });
}
