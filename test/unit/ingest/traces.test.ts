import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeOtlpProtobufResponse } from '../../../functions/domain/otlp-protobuf';
import { httpEvent, lambdaContext } from '../../support/events';
import { dynamo, handler, invoke } from './ingest-harness';

const agentTrace = readFileSync(new URL('../domain/fixtures/otlp-agent-trace.json', import.meta.url), 'utf8');

function postTraces(body: string, contentType = 'application/json') {
  return invoke(httpEvent('POST', '/v1/traces', { body, headers: { 'content-type': contentType } }));
}

/** Runs written (trace-spans items left out), in the order they were written. */
const storedIds = () =>
  dynamo
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item?.executionId as string)
    .filter((id) => !id.startsWith('spans#'));

/**
 * The Executions table in memory, with the two conditions ingest writes
 * under: a run's content hash, and a trace-spans item's version.
 */
const table = new Map<string, Record<string, unknown>>();
const conditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

beforeEach(() => {
  dynamo.reset();
  table.clear();
  dynamo.on(GetCommand).callsFake((input) => {
    const item = table.get(input.Key.executionId);
    return item === undefined ? {} : { Item: structuredClone(item) };
  });
  dynamo.on(PutCommand).callsFake((input) => {
    const item = input.Item as Record<string, unknown>;
    const stored = table.get(item.executionId as string);
    if (String(item.executionId).startsWith('spans#')) {
      const expected = input.ExpressionAttributeValues?.[':version'];
      if (stored === undefined ? expected !== undefined : stored.version !== expected)
        throw conditionFailed();
    } else if (stored !== undefined && stored.contentHash === item.contentHash) throw conditionFailed();
    table.set(item.executionId as string, structuredClone(item));
    return {};
  });
});

/** An OTLP/JSON export of these spans. */
const exportOf = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] });
const goldenSpans: Record<string, unknown>[] = JSON.parse(agentTrace).resourceSpans[0].scopeSpans[0].spans;
const FIXER = '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174';
const REVIEWER = '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b179';
const storedRun = (id: string) => table.get(id);

describe('POST /v1/traces', () => {
  it('stores one run per invoke_agent span and answers 200 with an empty body', async () => {
    const answer = await postTraces(agentTrace);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({});
    expect(storedIds().sort()).toEqual([
      '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174',
      '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b179',
    ]);
  });

  it('answers 200 with partialSuccess naming the span that could not become a run', async () => {
    const endsBeforeItStarts = {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: '00000000000000a1',
      startTimeUnixNano: '1793527201000000000',
      endTimeUnixNano: '1793527200000000000',
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'claude-haiku-4-5' } },
      ],
    };
    const body = JSON.parse(agentTrace);
    body.resourceSpans[0].scopeSpans[0].spans.push(endsBeforeItStarts);

    const answer = await postTraces(JSON.stringify(body));

    expect(answer.status).toBe(200);
    expect(answer.body.partialSuccess).toEqual({
      rejectedSpans: '1',
      errorMessage: expect.stringContaining('5b8efff798038103d269b633813fc60c:00000000000000a1: endTime'),
    });
    expect(storedIds()).toHaveLength(2);
  });

  it.each([
    ['an array', '[]'],
    ['resourceSpans not an array', '{"resourceSpans": 1}'],
    ['not JSON', '{"resourceSpans": ['],
  ])('answers 400 to %s and stores nothing', async (_, body) => {
    const answer = await postTraces(body);

    expect(answer.status).toBe(400);
    expect(answer.body.error).toBeDefined();
    expect(storedIds()).toEqual([]);
  });

  it('reads a protobuf export and answers in protobuf, with partialSuccess when some spans were rejected', async () => {
    const golden = readFileSync(new URL('../domain/fixtures/otlp-agent-trace.pb', import.meta.url));
    const answer = await handler(
      binaryEvent(golden, { 'content-type': 'application/x-protobuf' }),
      lambdaContext,
    );

    expect(answer.statusCode).toBe(200);
    expect(answer.headers?.['content-type']).toBe('application/x-protobuf');
    expect(answer.isBase64Encoded).toBe(true);
    expect(decodeOtlpProtobufResponse(Buffer.from(answer.body ?? '', 'base64'))).toEqual({});
    expect(storedIds().sort()).toEqual([
      '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174',
      '5b8efff798038103d269b633813fc60c:eee19b7ec3c1b179',
    ]);

    // A span with a 3-byte trace id: rejected on its own, named in the answer.
    const broken = Buffer.concat([
      golden,
      Buffer.from([0x0a, 0x0b, 0x12, 0x09, 0x12, 0x07, 0x0a, 0x03, 1, 2, 3, 0x12, 0x00]),
    ]);
    const partial = await handler(
      binaryEvent(broken, { 'content-type': 'application/x-protobuf' }),
      lambdaContext,
    );
    expect(partial.statusCode).toBe(200);
    expect(decodeOtlpProtobufResponse(Buffer.from(partial.body ?? '', 'base64'))).toEqual({
      partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringContaining('traceId') },
    });
  });

  it('reads gzip bodies, JSON and protobuf', async () => {
    const json = await handler(
      binaryEvent(gzipSync(agentTrace), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
      lambdaContext,
    );
    expect([json.statusCode, JSON.parse(json.body ?? '')]).toEqual([200, {}]);
    const golden = readFileSync(new URL('../domain/fixtures/otlp-agent-trace.pb', import.meta.url));
    const protobuf = await handler(
      binaryEvent(gzipSync(golden), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }),
      lambdaContext,
    );
    expect(protobuf.statusCode).toBe(200);
    expect(storedIds()).toHaveLength(4);
  });

  it.each([
    [
      'a zip bomb (64 MiB of zeros, 64 KiB gzipped)',
      gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      413,
      'payload_too_large',
      /inflates to more than 1048576 bytes/,
    ],
    [
      'bytes that are not gzip',
      Buffer.from('{"resourceSpans": []}'),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      400,
      'invalid_body',
      /not valid gzip/,
    ],
    [
      'a truncated gzip stream',
      gzipSync(agentTrace).subarray(0, 100),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      400,
      'invalid_body',
      /not valid gzip/,
    ],
    [
      'an encoding other than gzip',
      Buffer.from(agentTrace),
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      415,
      'unsupported_media_type',
      /content-encoding must be gzip or identity, got "br"/,
    ],
    [
      'a media type that is neither JSON nor protobuf',
      Buffer.from(agentTrace),
      { 'content-type': 'text/plain' },
      415,
      'unsupported_media_type',
      /application\/json or application\/x-protobuf, got "text\/plain"/,
    ],
    [
      'a truncated protobuf export',
      Buffer.from([0x0a, 0x20, 0x12]),
      { 'content-type': 'application/x-protobuf' },
      400,
      'invalid_body',
      /not a protobuf ExportTraceServiceRequest/,
    ],
    [
      'a protobuf body over 1 MiB as sent',
      Buffer.alloc(1024 * 1024 + 1),
      { 'content-type': 'application/x-protobuf' },
      413,
      'payload_too_large',
      /limit is 1048576 bytes/,
    ],
    [
      'gzip of JSON that is not UTF-8',
      gzipSync(Buffer.from([0x7b, 0xff, 0x7d])),
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      400,
      'invalid_json',
      /not valid UTF-8/,
    ],
  ])('answers %s with a JSON error and stores nothing', async (_, body, headers, status, error, message) => {
    const answer = await handler(binaryEvent(body, headers), lambdaContext);

    expect(answer.statusCode).toBe(status);
    expect(answer.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ error, message: expect.stringMatching(message) });
    expect(storedIds()).toEqual([]);
  });

  it('answers any hostile export with a 200 or a 4xx naming what is wrong, never a 5xx', async () => {
    const hostileValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom('__proto__', 'constructor', '\u202e', 'x'.repeat(5_000), -1, 2 ** 64, 1e308, ''),
    );
    const span = fc.record(
      {
        traceId: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), hostileValue),
        spanId: fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), hostileValue),
        parentSpanId: hostileValue,
        startTimeUnixNano: fc.oneof(fc.constant('1793527200000000000'), hostileValue),
        endTimeUnixNano: fc.oneof(fc.constant('1793527201000000000'), hostileValue),
        attributes: fc.oneof(
          fc.array(
            fc.record({
              key: fc.constantFrom(
                'gen_ai.operation.name',
                'gen_ai.usage.input_tokens',
                'gen_ai.request.model',
              ),
              value: fc.oneof(
                fc.record({ stringValue: fc.constantFrom('invoke_agent', 'chat', 'execute_tool') }),
                fc.record({ intValue: hostileValue }),
                hostileValue,
              ),
            }),
            { maxLength: 4 },
          ),
          hostileValue,
        ),
        status: hostileValue,
      },
      { requiredKeys: ['traceId', 'spanId'] },
    );
    const body = fc.oneof(
      fc.array(span, { maxLength: 4 }).map((spans) => ({ resourceSpans: [{ scopeSpans: [{ spans }] }] })),
      fc.record({ resourceSpans: hostileValue }),
      fc.record({ resourceSpans: fc.array(fc.record({ scopeSpans: hostileValue }), { maxLength: 2 }) }),
      hostileValue,
    );
    await fc.assert(
      fc.asyncProperty(body, async (export_) => {
        const answer = await postTraces(JSON.stringify(export_));
        expect(answer.status === 200 || (answer.status >= 400 && answer.status < 500)).toBe(true);
        if (answer.status !== 200) expect(answer.body.message).toEqual(expect.any(String));
        if (answer.body.partialSuccess) expect(answer.body.partialSuccess.errorMessage).toMatch(/\S/);
      }),
      { numRuns: 300 },
    );
  });

  it('names the field of a hostile span in the 400 of a malformed export', async () => {
    const answer = await postTraces(JSON.stringify({ resourceSpans: [{ scopeSpans: { spans: [] } }] }));
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('resourceSpans.0.scopeSpans');
  });
});

describe('POST /v1/traces: a trace over several exports', () => {
  // The golden trace: [0] fixer agent, [1] chat, [2] tool, [3] chat under the tool, [4] chat,
  // [5] reviewer agent (under the fixer), [6] the reviewer's chat.
  const whole = async () => {
    await postTraces(exportOf(goldenSpans));
    return { fixer: storedRun(FIXER), reviewer: storedRun(REVIEWER) };
  };
  const withoutVolatile = (run: Record<string, unknown> | undefined) => {
    const { expiresAt: _, ...rest } = run ?? {};
    return rest;
  };

  it.each([
    [
      'children first, agent spans last',
      [
        [1, 2, 3],
        [4, 6],
        [0, 5],
      ],
    ],
    [
      'agent spans first, children after',
      [
        [0, 5],
        [1, 6],
        [2, 3, 4],
      ],
    ],
    [
      'a grandchild before the tool span that links it',
      [
        [3, 0],
        [5, 6, 1],
        [4, 2],
      ],
    ],
  ])('ends with exactly the runs of the whole trace: %s', async (_, exports) => {
    const expected = await whole();
    table.clear();
    dynamo.resetHistory();

    for (const indexes of exports) {
      const answer = await postTraces(exportOf(indexes.map((index) => goldenSpans[index])));
      // The fixer agent span names no model: it waits for its chat spans, it is not rejected.
      expect([answer.status, answer.body]).toEqual([200, {}]);
    }

    expect(withoutVolatile(storedRun(FIXER))).toEqual(withoutVolatile(expected.fixer));
    expect(withoutVolatile(storedRun(REVIEWER))).toEqual(withoutVolatile(expected.reviewer));
    expect(table.get('spans#5b8efff798038103d269b633813fc60c')).toMatchObject({
      kind: 'traceSpans',
      version: 3,
    });
  });

  it('writes a run when its agent span arrives and once more per export that changes it, never for a re-send', async () => {
    await postTraces(exportOf([goldenSpans[1], goldenSpans[2]])); // children: no run yet
    expect(storedIds()).toEqual([]);
    await postTraces(exportOf([goldenSpans[0]])); // the agent span: its run, with both children
    expect(storedIds()).toEqual([FIXER]);
    expect(storedRun(FIXER)).toMatchObject({ llmCalls: 1, toolCalls: 1 });
    await postTraces(exportOf([goldenSpans[4]])); // one more chat: a correction
    expect(storedRun(FIXER)).toMatchObject({ llmCalls: 2, toolCalls: 1 });
    await postTraces(exportOf([goldenSpans[4]])); // the same export again: nothing changes
    const runWrites = storedIds().filter((id) => id === FIXER);
    expect(runWrites).toHaveLength(3);
    expect(table.get(FIXER)).toMatchObject({ llmCalls: 2 });
    // The re-send did not rewrite the waiting spans either.
    expect(table.get('spans#5b8efff798038103d269b633813fc60c')).toMatchObject({ version: 3 });
  });

  it('keeps no spans of a trace that has no GenAI span, and links a late span into a kept trace', async () => {
    const http = {
      traceId: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      spanId: 'bbbbbbbbbbbbbbbb',
      startTimeUnixNano: '1793527200000000000',
      endTimeUnixNano: '1793527201000000000',
      attributes: [{ key: 'http.request.method', value: { stringValue: 'GET' } }],
    };
    expect(await postTraces(exportOf([http]))).toMatchObject({ status: 200, body: {} });
    expect([...table.keys()]).toEqual([]);

    // The chat under the tool span arrives first; the tool span (no GenAI attributes needed to link) later.
    await postTraces(exportOf([goldenSpans[3]]));
    await postTraces(exportOf([{ ...goldenSpans[2], attributes: [] }]));
    await postTraces(exportOf([goldenSpans[0]]));
    expect(storedRun(FIXER)).toMatchObject({ llmCalls: 1, inputTokens: 2000 });
  });

  it('answers a trace too large to keep with the runs of its export alone, never a 5xx', async () => {
    // 300 agent spans with a 2 KB error message each: past the 350 KB a waiting-spans item may hold.
    const spans = Array.from({ length: 300 }, (_, index) => ({
      ...goldenSpans[5],
      spanId: `c${String(index).padStart(15, '0')}`,
      status: { code: 2, message: 'm'.repeat(2_000) },
    }));
    const answer = await postTraces(exportOf(spans));
    expect([answer.status, answer.body]).toEqual([200, {}]);
    expect(storedIds()).toHaveLength(300);
    expect(table.has('spans#5b8efff798038103d269b633813fc60c')).toBe(false);

    const huge = structuredClone(goldenSpans[5]) as { attributes: { key: string; value: unknown }[] };
    huge.attributes.push({ key: 'gen_ai.response.model', value: { stringValue: 'x'.repeat(500_000) } });
    const refused = await postTraces(exportOf([huge]));
    expect(refused.status).toBe(200);
    expect(refused.body.partialSuccess.errorMessage).toContain('model');
  });

  it('answers 503 with retry-after when other writers of the trace keep winning', async () => {
    dynamo.on(PutCommand).rejects(conditionFailed());
    const answer = await postTraces(exportOf([goldenSpans[1]]));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.body.message).toMatch(/concurrent writers/);
  });

  it('keeps only the attributes a run is made from while spans wait', async () => {
    const chat = structuredClone(goldenSpans[1]) as { attributes: unknown[] };
    chat.attributes.push({ key: 'gen_ai.prompt', value: { stringValue: 'x'.repeat(10_000) } });
    await postTraces(exportOf([chat]));
    const waiting = table.get('spans#5b8efff798038103d269b633813fc60c');
    expect(String(waiting?.spans)).not.toContain('gen_ai.prompt');
    expect(String(waiting?.spans).length).toBeLessThan(1_000);
    expect(waiting?.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});

/** A request whose body goes base64-encoded, as API Gateway passes binary and compressed bodies. */
function binaryEvent(body: Buffer, headers: Record<string, string>) {
  const event = httpEvent('POST', '/v1/traces', { headers });
  event.body = body.toString('base64');
  event.isBase64Encoded = true;
  return event;
}
