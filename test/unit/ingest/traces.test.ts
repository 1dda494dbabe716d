import { readFileSync } from 'node:fs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { httpEvent } from '../../support/events';
import { dynamo, invoke } from './ingest-harness';

const agentTrace = readFileSync(new URL('../domain/fixtures/otlp-agent-trace.json', import.meta.url), 'utf8');

function postTraces(body: string, contentType = 'application/json') {
  return invoke(httpEvent('POST', '/v1/traces', { body, headers: { 'content-type': contentType } }));
}

const storedIds = () =>
  dynamo.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.executionId as string);

beforeEach(() => {
  dynamo.reset();
  dynamo.on(PutCommand).resolves({});
});

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
    const noModel = {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: '00000000000000a1',
      startTimeUnixNano: '1793527200000000000',
      endTimeUnixNano: '1793527201000000000',
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'invoke_agent' } }],
    };
    const body = JSON.parse(agentTrace);
    body.resourceSpans[0].scopeSpans[0].spans.push(noModel);

    const answer = await postTraces(JSON.stringify(body));

    expect(answer.status).toBe(200);
    expect(answer.body.partialSuccess).toEqual({
      rejectedSpans: '1',
      errorMessage: expect.stringContaining('5b8efff798038103d269b633813fc60c:00000000000000a1: model'),
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

  it('answers 415 to a protobuf export, which is not read yet', async () => {
    const answer = await postTraces('\x0a\x00', 'application/x-protobuf');

    expect(answer.status).toBe(415);
    expect(storedIds()).toEqual([]);
  });
});
