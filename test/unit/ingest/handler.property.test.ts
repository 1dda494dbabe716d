import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { runRecord } from '../../support/events';
import { dynamo, post } from './ingest-harness';

beforeEach(() => {
  dynamo.reset();
  dynamo.on(PutCommand).resolves({});
});

const fields = Object.keys(runRecord({ errorType: 'E', errorMessage: 'm' }));

/** Values that probe edges: numbers out of range, odd strings, hostile shapes. */
const edgeValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    1e300,
    -1,
    1.5,
    -0,
    2 ** 53,
    Number.MAX_SAFE_INTEGER,
    'NaN',
    'Infinity',
    '',
    ' ',
    '\u0000',
    '\ud800',
    '😀',
    '2026-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999999+23:59',
    [],
    {},
    null,
    true,
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

/** A valid record with some fields replaced, dropped, or joined by strange keys. */
const mutatedRecord = fc
  .record({
    replaced: fc.dictionary(fc.constantFrom(...fields), edgeValue, { maxKeys: 4 }),
    dropped: fc.subarray(fields, { maxLength: 3 }),
    extra: fc.dictionary(
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'costUSD', 'durationMs', 'toString'),
        fc.string(),
      ),
      edgeValue,
      { maxKeys: 2 },
    ),
  })
  .map(({ replaced, dropped, extra }) => {
    const record: Record<string, unknown> = runRecord({ executionId: 'prop-run', ...replaced });
    for (const field of dropped) delete record[field];
    // defineProperty, so that a "__proto__" key becomes an own member, as JSON.parse makes it.
    for (const [key, value] of Object.entries(extra)) {
      Object.defineProperty(record, key, { value, enumerable: true, configurable: true, writable: true });
    }
    return record;
  });

const anyBody = fc.oneof(
  fc.jsonValue(),
  mutatedRecord,
  fc.array(fc.oneof(mutatedRecord, fc.jsonValue()), { maxLength: 105 }).map((executions) => ({ executions })),
  fc.record({ executions: fc.jsonValue(), other: fc.option(fc.jsonValue(), { nil: undefined }) }),
);

function expectAnAnswer(status: number): void {
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(500);
}

describe('POST /api/executions with any input', () => {
  it('answers any JSON value with a 2xx or 4xx, never a 5xx or a throw', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const answer = await post(body);
        expectAnAnswer(answer.status);
        if (answer.status >= 400) expect(typeof answer.body.message).toBe('string');
      }),
      { numRuns: 400 },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('answers any raw text body and content type with a 2xx or 4xx', async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        '',
        'application/json; charset',
      ),
      fc.string({ maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 2_000 }),
        contentType,
        fc.boolean(),
        async (raw, type, base64) => {
          const answer = await post(null, { raw, base64, headers: { 'content-type': type } });
          expectAnAnswer(answer.status);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers deeply nested JSON without overflowing the stack', async () => {
    const depth = 400_000;
    for (const raw of [
      '['.repeat(depth) + ']'.repeat(depth),
      `{"executions":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    ]) {
      expectAnAnswer((await post(null, { raw })).status);
    }
    const nestedField = `{"executionId":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    expect((await post(null, { raw: nestedField })).status).toBe(400);
  });
});
