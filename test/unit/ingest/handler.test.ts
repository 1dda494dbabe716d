import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runRecord } from '../../support/events';
import { dynamo, emfLines, ingestEvent, invoke, post } from './ingest-harness';

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    $metadata: {},
  });
const alreadyStored = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The PutCommand inputs the handler sent, in order. */
const puts = () => dynamo.commandCalls(PutCommand).map((call) => call.args[0].input);

beforeEach(() => {
  dynamo.reset();
  dynamo.on(PutCommand).resolves({});
});

describe('POST /api/executions', () => {
  describe('202: every item stored or already stored', () => {
    it('stores one valid execution with a conditional put and answers the counts', async () => {
      const answer = await post(runRecord({ executionId: 'run-202', costUsd: 0.012345 }));

      expect(answer.status).toBe(202);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.body).toEqual({ accepted: 1, duplicates: 0, superseded: 0, rejected: [] });
      expect(puts()).toHaveLength(1);
      expect(puts()[0]).toMatchObject({
        TableName: 'Executions',
        ConditionExpression:
          'attribute_not_exists(executionId) OR attribute_not_exists(contentHash) OR contentHash <> :hash',
        Item: { executionId: 'run-202', costNanos: 12_345_000n, durationMs: 150_000 },
      });
    });

    it('counts an identical re-send (condition failed) as a duplicate', async () => {
      dynamo.on(PutCommand).rejects(alreadyStored());
      const answer = await post(runRecord());
      expect(answer).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1, rejected: [] } });
    });

    it('counts the loser of a concurrent first write as a duplicate, not as new', async () => {
      // Two requests race for one new id: DynamoDB lets the first put through
      // and fails the second one's condition.
      const run = runRecord({ executionId: 'race' });
      dynamo.on(PutCommand).resolvesOnce({}).rejects(alreadyStored());
      const answers = await Promise.all([post(run), post(run)]);
      expect(answers.map((answer) => answer.status)).toEqual([202, 202]);
      expect(answers.reduce((sum, answer) => sum + answer.body.accepted, 0)).toBe(1);
      expect(answers.reduce((sum, answer) => sum + answer.body.duplicates, 0)).toBe(1);
    });

    it('stores only the last of several items with one executionId and reports them as superseded', async () => {
      const answer = await post({
        executions: [
          runRecord({ executionId: 'x', model: 'old' }),
          runRecord({ executionId: 'x', model: 'new' }),
          runRecord({ executionId: 'y' }),
        ],
      });
      expect(answer.body).toEqual({ accepted: 2, duplicates: 0, superseded: 1, rejected: [] });
      expect(puts().map((input) => [input.Item?.executionId, input.Item?.model])).toEqual([
        ['x', 'new'],
        ['y', 'claude-sonnet-4'],
      ]);
    });

    it('stores errorMessage cut to 2,000 characters', async () => {
      await post(runRecord({ status: 'failure', errorType: 'Timeout', errorMessage: 'x'.repeat(10_000) }));
      expect(puts()[0]?.Item?.errorMessage).toHaveLength(2_000);
    });

    it.each([
      ['a charset parameter', { 'content-type': 'application/json; charset=UTF-8' }],
      ['a quoted charset', { 'content-type': 'application/json;charset="utf-8"' }],
      ['upper-case media type', { 'Content-Type': 'Application/JSON' }],
      ['a +json media type', { 'content-type': 'application/vnd.fixer+json' }],
    ])('accepts a JSON content type with %s', async (_, headers) => {
      expect((await post(runRecord(), { headers: { 'content-type': '', ...headers } })).status).toBe(202);
    });

    it('accepts a base64-encoded body, as API Gateway passes some bodies', async () => {
      const answer = await post(runRecord({ model: 'modèle-✓' }), { base64: true });
      expect(answer.status).toBe(202);
      expect(puts()[0]?.Item?.model).toBe('modèle-✓');
    });

    it('accepts a body that starts with a UTF-8 byte-order mark', async () => {
      expect((await post(null, { raw: `\ufeff${JSON.stringify(runRecord())}` })).status).toBe(202);
    });
  });

  describe('207: some items rejected, the rest stored', () => {
    it('stores the valid items and lists each rejected one with its index, id and errors', async () => {
      const answer = await post({
        executions: [
          runRecord({ executionId: 'good' }),
          runRecord({
            executionId: 'skewed',
            startTime: '2026-10-28T10:00:00Z',
            endTime: '2026-10-27T00:00:00Z',
          }),
          runRecord({ executionId: 'typo', costUSD: 1 }),
        ],
      });
      expect(answer.status).toBe(207);
      expect(answer.body).toEqual({
        accepted: 1,
        duplicates: 0,
        superseded: 0,
        rejected: [
          {
            index: 1,
            executionId: 'skewed',
            errors: [
              {
                path: 'endTime',
                message: 'endTime 2026-10-27T00:00:00Z is before startTime 2026-10-28T10:00:00Z',
              },
            ],
          },
          {
            index: 2,
            executionId: 'typo',
            errors: [{ path: 'costUSD', message: 'unknown field "costUSD" (did you mean "costUsd"?)' }],
          },
        ],
      });
      expect(puts().map((input) => input.Item?.executionId)).toEqual(['good']);
    });
  });

  describe('400 validation_failed: nothing stored because every item is invalid', () => {
    it('names the field in the message of a single invalid execution', async () => {
      const answer = await post(runRecord({ executionId: 'neg', inputTokens: -1 }));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'validation_failed',
        message: 'invalid execution: inputTokens must be an integer from 0 to 9007199254740991, got -1',
        rejected: [
          {
            index: 0,
            executionId: 'neg',
            errors: [
              {
                path: 'inputTokens',
                message: 'inputTokens must be an integer from 0 to 9007199254740991, got -1',
              },
            ],
          },
        ],
      });
      expect(puts()).toHaveLength(0);
    });

    it('rejects clock skew, never storing a negative duration', async () => {
      const answer = await post(
        runRecord({ startTime: '2026-10-28T10:00:00Z', endTime: '2026-10-27T00:00:00Z' }),
      );
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(
        'invalid execution: endTime 2026-10-27T00:00:00Z is before startTime 2026-10-28T10:00:00Z',
      );
      expect(puts()).toHaveLength(0);
    });

    it('summarises a batch in which every item is invalid', async () => {
      const answer = await post({ executions: [{}, runRecord({ status: 'done' })] });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('validation_failed');
      expect(answer.body.message).toBe(
        'all 2 executions are invalid; first, item 0: executionId is required: a string of 1–128 characters of A-Z a-z 0-9 . _ : -',
      );
      expect(answer.body.rejected.map((item: { index: number }) => item.index)).toEqual([0, 1]);
    });

    it.each([
      ['an empty batch', { executions: [] }, 'executions must hold at least 1 execution, got 0'],
      ['a top-level array', [runRecord()], 'got an array'],
      ['a JSON string', 'run-1', 'an execution must be a JSON object, got "run-1"'],
      ['null', null, 'an execution must be a JSON object, got null'],
    ])('rejects %s', async (_, body, message) => {
      const answer = await post(body);
      expect(answer).toMatchObject({ status: 400, body: { error: 'validation_failed' } });
      expect(answer.body.message).toContain(message);
    });

    it('rejects __proto__ and constructor keys as unknown fields without polluting Object.prototype', async () => {
      const raw = `{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}, ${JSON.stringify(runRecord()).slice(1)}`;
      const answer = await post(null, { raw });
      expect(answer.status).toBe(400);
      expect(answer.body.rejected[0].errors.map((error: { path: string }) => error.path)).toEqual([
        '__proto__',
        'constructor',
      ]);
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('answers a small response to a body of many huge unknown fields', async () => {
      const junk = Object.fromEntries(
        Array.from({ length: 90 }, (_, i) => [`${i}${'k'.repeat(10_000)}`, 'v'.repeat(1_000)]),
      );
      const result = await invoke(
        ingestEvent({ executions: Array.from({ length: 1 }, () => ({ ...runRecord(), ...junk })) }),
      );
      expect(result.status).toBe(400);
      expect(JSON.stringify(result.body).length).toBeLessThan(4_000);
    });
  });

  describe('400 invalid_json: body is not JSON', () => {
    it.each([
      ['broken JSON', '{"executionId": "a",', 'body is not valid JSON'],
      ['a trailing comma', `${JSON.stringify(runRecord()).slice(0, -1)},}`, 'body is not valid JSON'],
      ['an empty body', '', 'body is empty'],
      ['a blank body', ' \n\t ', 'body is empty'],
      ['NaN', '{"inputTokens": NaN}', 'body is not valid JSON'],
    ])('rejects %s', async (_, raw, message) => {
      const answer = await post(null, { raw });
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
      expect(answer.body.message).toContain(message);
    });

    it('rejects bytes that are not UTF-8 instead of guessing', async () => {
      const event = ingestEvent(null, { raw: '' });
      event.body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64');
      event.isBase64Encoded = true;
      expect(await invoke(event)).toMatchObject({
        status: 400,
        body: { error: 'invalid_json', message: 'body is not valid UTF-8' },
      });
    });

    it('rejects a missing body', async () => {
      const event = ingestEvent(null);
      event.body = undefined;
      expect(await invoke(event)).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    });
  });

  describe('400 batch_too_large: more than 100 items', () => {
    it('names the limit', async () => {
      const answer = await post({ executions: Array.from({ length: 101 }, () => runRecord()) });
      expect(answer).toEqual({
        status: 400,
        headers: expect.any(Object),
        body: { error: 'batch_too_large', message: 'at most 100 executions per request, got 101' },
      });
      expect(puts()).toHaveLength(0);
    });
  });

  describe('413 payload_too_large: body over 1 MiB', () => {
    it('names the size and the limit', async () => {
      const body = { ...runRecord(), errorMessage: 'x'.repeat(1024 * 1024) };
      const answer = await post(body);
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({
        error: 'payload_too_large',
        message: `body is ${JSON.stringify(body).length} bytes; the limit is 1048576 bytes (1 MiB)`,
      });
    });

    it('counts decoded bytes of a base64 body, and UTF-8 bytes rather than characters', async () => {
      const body = { ...runRecord(), errorMessage: 'é'.repeat(600_000) }; // 1.2 MB of UTF-8 in 0.6 M characters
      expect((await post(body, { base64: true })).status).toBe(413);
    });

    it('accepts a body of exactly 1 MiB', async () => {
      const record = JSON.stringify({ ...runRecord(), errorMessage: '' });
      const raw = record.replace(
        '"errorMessage":""',
        `"errorMessage":"${'x'.repeat(1024 * 1024 - record.length)}"`,
      );
      expect(Buffer.byteLength(raw)).toBe(1024 * 1024);
      expect((await post(null, { raw })).status).toBe(202);
    });
  });

  describe('415 unsupported_media_type: content type not JSON', () => {
    it.each([
      [
        'text/plain',
        { 'content-type': 'text/plain' },
        'content-type must be application/json, got "text/plain"',
      ],
      [
        'form data',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'content-type must be application/json, got "application/x-www-form-urlencoded"',
      ],
      ['no content type', { 'content-type': '' }, 'content-type must be application/json, got none'],
      [
        'a latin-1 charset',
        { 'content-type': 'application/json; charset=iso-8859-1' },
        'content-type charset must be utf-8, got "iso-8859-1"',
      ],
    ])('refuses %s, naming it', async (_, headers, message) => {
      const answer = await post(runRecord(), { headers });
      expect(answer).toMatchObject({ status: 415, body: { error: 'unsupported_media_type', message } });
      expect(puts()).toHaveLength(0);
    });

    it('refuses a request without any content-type header', async () => {
      const event = ingestEvent(runRecord());
      event.headers = {};
      expect((await invoke(event)).status).toBe(415);
    });
  });

  describe('405: methods other than POST', () => {
    it.each(['GET', 'PUT', 'DELETE'])(
      'refuses %s with an Allow header, before reading the body',
      async (method) => {
        const answer = await post(null, { method, raw: '', headers: { 'content-type': '' } });
        expect(answer.status).toBe(405);
        expect(answer.headers.allow).toBe('POST');
        expect(answer.body).toEqual({
          error: 'method_not_allowed',
          message: `${method} is not allowed on /api/executions; use POST`,
        });
      },
    );
  });

  describe('DynamoDB throttling and transient errors', () => {
    it('retries a throttled write and answers 202 once it succeeds', async () => {
      dynamo.on(PutCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
      const answer = await post(runRecord());
      expect(answer).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
      expect(puts()).toHaveLength(3);
    });

    it('answers 503 with Retry-After and a JSON error when throttling outlasts every retry', async () => {
      dynamo.on(PutCommand).rejects(throttled());
      const answer = await post(runRecord());
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('2');
      expect(answer.body).toEqual({
        error: 'service_unavailable',
        message:
          'the store is busy (ProvisionedThroughputExceededException); 1 of 1 executions were not stored; re-send the request after 2 s',
      });
      expect(puts()).toHaveLength(5);
    });

    it('answers 503 for a batch when some writes gave up, and a re-send stores the rest', async () => {
      const batch = { executions: [runRecord({ executionId: 'ok' }), runRecord({ executionId: 'busy' })] };
      dynamo
        .on(PutCommand)
        .resolves({})
        .on(PutCommand, { Item: { executionId: 'busy' } })
        .rejects(throttled());
      expect((await post(batch)).status).toBe(503);

      dynamo.reset();
      dynamo
        .on(PutCommand)
        .resolves({})
        .on(PutCommand, { Item: { executionId: 'ok' } })
        .rejects(alreadyStored());
      expect(await post(batch)).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 1 } });
    });

    it('retries a dropped connection like a throttle', async () => {
      const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      dynamo.on(PutCommand).rejectsOnce(reset).resolves({});
      expect((await post(runRecord())).status).toBe(202);
    });

    it('answers a generic 500 that leaks nothing for a store error no retry can fix (a deployment bug)', async () => {
      dynamo.on(PutCommand).rejects(
        Object.assign(new Error('User is not authorized: arn:aws:iam::1:role/x'), {
          name: 'AccessDeniedException',
        }),
      );
      const answer = await post(runRecord());
      expect(answer).toMatchObject({
        status: 500,
        body: { error: 'internal_error', message: 'internal error; see the logs' },
      });
      expect(puts()).toHaveLength(1);
    });
  });

  describe('metrics', () => {
    it('counts each 5xx it answers itself (ServerErrorResponses, Function=ingest), and no 2xx or 4xx', async () => {
      emfLines.length = 0;
      expect((await post(runRecord())).status).toBe(202);
      expect((await post({ executions: 'none' })).status).toBe(400);
      expect(emfLines).toEqual([]);

      dynamo.on(PutCommand).rejects(throttled());
      expect((await post(runRecord())).status).toBe(503);
      dynamo.on(PutCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      expect((await post(runRecord())).status).toBe(500);

      const documents = emfLines.map((line) => JSON.parse(line));
      expect(documents).toHaveLength(2);
      for (const document of documents) {
        expect(document).toMatchObject({
          service: 'fixer-agent-metrics',
          Stage: 'local',
          Function: 'ingest',
          ServerErrorResponses: 1,
        });
        expect(document._aws.CloudWatchMetrics).toEqual([
          {
            Namespace: 'FixerAgent',
            Dimensions: [['service', 'Stage', 'Function']],
            Metrics: [{ Name: 'ServerErrorResponses', Unit: 'Count' }],
          },
        ]);
      }
    });
  });

  describe('logs', () => {
    let output: string[];
    beforeEach(() => {
      output = [];
      const capture = (chunk: unknown) => {
        output.push(String(chunk));
        return true;
      };
      vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    });
    afterEach(() => vi.restoreAllMocks());

    const logLines = () =>
      output
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line));

    it('logs the request id and the counts of a request, never its payload', async () => {
      const secret = 'PAYLOAD-MARKER-7f3a9c';
      const event = ingestEvent({
        executions: [
          runRecord({ executionId: 'logged-1', errorMessage: secret, model: secret }),
          runRecord({ executionId: 'logged-2', costUSD: secret }),
        ],
      });
      await invoke(event);

      expect(output.join('')).not.toContain(secret);
      expect(output.join('')).not.toContain('logged-1');
      expect(logLines()).toContainEqual(
        expect.objectContaining({
          message: 'ingested',
          requestId: event.requestContext.requestId,
          received: 2,
          accepted: 1,
          duplicates: 0,
          rejected: 1,
        }),
      );
    });

    it('logs refused requests with their status and error code only', async () => {
      const secret = 'BROKEN-JSON-MARKER-1b2c';
      const event = ingestEvent(null, { raw: `{"${secret}": ` });
      await invoke(event);
      expect(output.join('')).not.toContain(secret);
      expect(logLines()).toContainEqual(
        expect.objectContaining({
          message: 'ingest refused',
          status: 400,
          error: 'invalid_json',
          requestId: event.requestContext.requestId,
        }),
      );
    });
  });
});
