/**
 * Poison records: items that are not runs, written straight into the
 * Executions table (by hand, by a bad migration). The stream must keep
 * flowing past them, each must land in the dead-letter list, and
 * /api/health must say so.
 */
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuntimeProcess, startRuntime } from '../../support/runtime-harness';
import { HttpClient } from '../lib/http';
import { makeRuns } from '../lib/runs';
import {
  comparable,
  dynamoClient,
  dynamoEndpointOf,
  settleAggregates,
  totalsFromApi,
  waitForAggregatedExecutions,
} from '../lib/truth';

/** Not runs: no fields at all; wrong types; a status the schema does not know. */
const POISON_ITEMS: (Record<string, AttributeValue> & { executionId: { S: string } })[] = [
  { executionId: { S: 'poison-empty' } },
  {
    executionId: { S: 'poison-types' },
    startTime: { N: '12' },
    status: { S: 'success' },
    model: { M: { nested: { S: 'x' } } },
    inputTokens: { S: 'many' },
  },
  {
    executionId: { S: 'poison-status' },
    startTime: { S: '2026-10-02T10:00:00Z' },
    endTime: { S: '2026-10-02T10:01:00Z' },
    status: { S: 'exploded' },
    model: { S: 'claude-sonnet-4' },
    inputTokens: { N: '1' },
    outputTokens: { N: '1' },
  },
];
const isPoison = (id: unknown) => String(id).startsWith('poison-');

interface Health {
  status: string;
  local?: { stream?: { deadLetterCount: number; deadLetters: { keys?: unknown; reason: string }[] } };
}

export function poisonSuite(options: { runsAround: number; timeoutMs: number }): void {
  describe('poison records in the Executions table', () => {
    let runtime: RuntimeProcess;
    let http: HttpClient;
    const dynamo = () => dynamoClient(dynamoEndpointOf(runtime));

    beforeAll(async () => {
      runtime = await startRuntime();
      http = new HttpClient(runtime.baseUrl, { maxSockets: 8 });
    });
    afterAll(async () => {
      http?.close();
      await runtime?.stop();
    });

    /** Posts runs `first` … `first + count - 1` in batches of at most 100. */
    async function postRuns(first: number, count: number): Promise<void> {
      for (let offset = 0; offset < count; offset += 100) {
        const answer = await http.postRuns({
          executions: makeRuns('around-poison', first + offset, Math.min(100, count - offset)),
        });
        expect(answer.status, answer.body).toBe(202);
      }
    }

    it('keeps the stream flowing: runs sent before, between and after the poison all count once', async () => {
      // Prepare
      const client = dynamo();
      const half = options.runsAround / 2;

      // Act: runs, then each poison item with runs right behind it (the same poller batch), then more runs.
      await postRuns(0, half);
      for (const [position, item] of POISON_ITEMS.entries()) {
        await client.send(new PutItemCommand({ TableName: 'Executions', Item: item }));
        await postRuns(half + position * 10, 10);
      }
      await postRuns(half + POISON_ITEMS.length * 10, half);
      const sent = half + POISON_ITEMS.length * 10 + half;
      const counted = await waitForAggregatedExecutions(http, sent, { timeoutMs: options.timeoutMs });
      // The aggregates must equal the valid stored runs; poison must add nothing.
      const { truth, api } = await settleAggregates(http, client, {
        timeoutMs: options.timeoutMs,
        isRun: (item) => !isPoison(item.executionId),
      });
      client.destroy();

      // Assess
      expect(counted.executions).toBe(sent);
      expect(comparable(api)).toEqual(comparable(truth));
    });

    it('puts each poison record on the dead-letter list that /api/health reports', async () => {
      // Act
      const deadline = Date.now() + options.timeoutMs;
      let health = await http.getJson<Health>('/api/health');
      while ((health.local?.stream?.deadLetterCount ?? 0) < POISON_ITEMS.length && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 250));
        health = await http.getJson<Health>('/api/health');
      }
      const letters = health.local?.stream?.deadLetters ?? [];

      // Assess
      expect(health.status).toBe('ok');
      expect(health.local?.stream?.deadLetterCount).toBe(POISON_ITEMS.length);
      for (const item of POISON_ITEMS) {
        const id = item.executionId.S;
        expect(
          letters.some((letter) => JSON.stringify(letter.keys ?? '').includes(id)),
          id,
        ).toBe(true);
      }
      expect(letters.every((letter) => letter.reason.length > 0)).toBe(true);
      expect(runtime.output()).toMatch(/dead.?letter/i);
    });

    it('still counts runs sent after the dead letters, and takes no poison in again', async () => {
      // Act
      const before = await totalsFromApi(http);
      expect((await http.postRuns({ executions: makeRuns('after-poison', 0, 20) })).status).toBe(202);
      const counted = await waitForAggregatedExecutions(http, before.executions + 20, {
        timeoutMs: options.timeoutMs,
      });
      const health = await http.getJson<Health>('/api/health');

      // Assess
      expect(counted.executions).toBe(before.executions + 20);
      expect(health.local?.stream?.deadLetterCount).toBe(POISON_ITEMS.length);
    });
  });
}
