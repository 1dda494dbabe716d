import { describe, expect, it } from 'vitest';
import {
  charLength,
  DEFAULT_RUN_LIMITS,
  durationMsOf,
  ERROR_MESSAGE_MAX_CHARS,
  MAX_ERRORS_PER_ITEM,
  MAX_TOKENS_EXACT_FOR_TEN_YEARS,
  RUNS_IN_TEN_YEARS_AT_10K_PER_SECOND,
  runLimitsSchema,
  truncateChars,
  validateExecution,
} from '../../../functions/domain/execution';

/** The smallest valid execution: required fields only. */
const minimal = {
  executionId: 'run-1',
  startTime: '2026-10-28T10:00:00Z',
  endTime: '2026-10-28T10:02:30Z',
  status: 'success',
  model: 'claude-sonnet-4',
  inputTokens: 1200,
  outputTokens: 300,
};

function errorsOf(input: unknown) {
  const result = validateExecution(input);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.record)}`);
  return result.errors;
}

function recordOf(input: unknown) {
  const result = validateExecution(input);
  if (!result.ok) throw new Error(`expected a record, got ${JSON.stringify(result.errors)}`);
  return result.record;
}

describe('validateExecution', () => {
  describe('labels are identifiers', () => {
    it.each([
      ['a tab', 'claude\t=1+1', '0009'],
      ['a carriage return', '\r=1+1', '000D'],
      ['a C1 control', 'claude\u0085', '0085'],
      ['a right-to-left override', 'claude\u202Eevil', '202E'],
      ['a first-strong isolate', '\u2068claude', '2068'],
      ['a zero-width space', 'claude-sonnet-4\u200b', '200B'],
      ['a word joiner', 'clau\u2060de', '2060'],
      ['a byte-order mark', '\uFEFFclaude', 'FEFF'],
    ])('refuses a model or errorType with %s, naming the field and the character', (_name, text, code) => {
      for (const field of ['model', 'errorType'] as const) {
        const errors = errorsOf({ ...minimal, status: 'failure', [field]: text });
        expect(errors).toEqual([
          {
            path: field,
            message: expect.stringContaining(
              `${field} must not contain control, bidi or zero-width characters (U+${code}`,
            ),
          },
        ]);
      }
    });

    it.each([' claude', 'claude ', '\u00a0claude', 'claude\u3000'])(
      'refuses leading or trailing white space in %j',
      (text) => {
        expect(errorsOf({ ...minimal, model: text })).toEqual([
          { path: 'model', message: 'model must not start or end with white space' },
        ]);
      },
    );

    it('refuses a comma in a model name, which the model filter could never select', () => {
      expect(errorsOf({ ...minimal, model: 'gpt,claude' })).toEqual([
        {
          path: 'model',
          message: 'model must not contain a comma (the model filter is a comma-separated list)',
        },
      ]);
      expect(recordOf({ ...minimal, status: 'failure', errorType: 'a,b' }).errorType).toBe('a,b');
    });
  });

  describe('accepts', () => {
    it('returns the required fields with every optional count defaulted to 0 and costUsd to null', () => {
      expect(recordOf(minimal)).toEqual({
        ...minimal,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: null,
        llmCalls: 0,
        toolCalls: 0,
        filesModified: 0,
      });
    });

    it('returns every optional field as sent', () => {
      const full = {
        ...minimal,
        status: 'failure',
        cacheReadTokens: 800,
        cacheWriteTokens: 100,
        costUsd: 0.012345,
        llmCalls: 6,
        toolCalls: 9,
        filesModified: 2,
        errorType: 'TestFailure',
        errorMessage: 'expected 2, got 3',
      };
      expect(recordOf(full)).toEqual(full);
    });

    it.each([
      ['Z', '2026-10-28T10:00:00Z'],
      ['a positive offset', '2026-10-28T15:30:00+05:30'],
      ['a negative offset', '2026-10-28T05:00:00-05:00'],
      ['milliseconds', '2026-10-28T10:00:00.123Z'],
      ['nanoseconds', '2026-10-28T10:00:00.123456789Z'],
      ['a leap day', '2028-02-29T10:00:00Z'],
      ['the epoch', '1970-01-01T00:00:00Z'],
    ])('accepts a startTime with %s', (_, startTime) => {
      expect(recordOf({ ...minimal, startTime, endTime: '2030-01-01T00:00:00Z' }).startTime).toBe(startTime);
    });

    it('accepts an endTime equal to startTime (a zero-length run)', () => {
      expect(durationMsOf(recordOf({ ...minimal, endTime: minimal.startTime }))).toBe(0);
    });

    it('compares instants, not strings, across offsets', () => {
      // 10:00+02:00 is 08:00Z, so this run lasted one hour although the strings sort the other way.
      const record = recordOf({
        ...minimal,
        startTime: '2026-10-28T10:00:00+02:00',
        endTime: '2026-10-28T09:00:00Z',
      });
      expect(durationMsOf(record)).toBe(3_600_000);
    });

    it.each([
      ['every id character', 'Az09._:-'],
      ['128 characters', 'x'.repeat(128)],
    ])('accepts an executionId of %s', (_, executionId) => {
      expect(recordOf({ ...minimal, executionId }).executionId).toBe(executionId);
    });

    it('accepts the largest exact JSON integer as a count', () => {
      expect(recordOf({ ...minimal, inputTokens: Number.MAX_SAFE_INTEGER }).inputTokens).toBe(
        Number.MAX_SAFE_INTEGER,
      );
    });

    it('accepts costUsd null, 0 and 1,000,000 and rounds it to the nanodollar', () => {
      expect(recordOf({ ...minimal, costUsd: null }).costUsd).toBeNull();
      expect(recordOf({ ...minimal, costUsd: 0 }).costUsd).toBe(0);
      expect(recordOf({ ...minimal, costUsd: 1_000_000 }).costUsd).toBe(1_000_000);
      expect(recordOf({ ...minimal, costUsd: 0.0000000014 }).costUsd).toBe(0.000000001);
      expect(recordOf({ ...minimal, costUsd: 0.1 + 0.2 }).costUsd).toBe(0.3);
    });

    it('counts model characters as code points, so 100 emoji fit', () => {
      const model = '🤖'.repeat(100);
      expect(recordOf({ ...minimal, model }).model).toBe(model);
    });

    it('stores model and errorType in Unicode NFC, so one name typed two ways is one name', () => {
      const record = recordOf({
        ...minimal,
        status: 'failure',
        model: 'mode\u0301le',
        errorType: 'Erreur\u0301',
      });
      expect([record.model, record.errorType]).toEqual(['mod\u00e9le', 'Erreur\u0301'.normalize('NFC')]);
    });

    it('treats an empty errorType as none, so the failure counts as Unknown', () => {
      expect(recordOf({ ...minimal, status: 'failure', errorType: '' })).not.toHaveProperty('errorType');
    });

    it(`cuts errorMessage to ${ERROR_MESSAGE_MAX_CHARS} characters`, () => {
      expect(recordOf({ ...minimal, errorMessage: 'e'.repeat(5_000) }).errorMessage).toBe('e'.repeat(2_000));
    });

    it('cuts errorMessage without splitting a surrogate pair', () => {
      const message = `${'a'.repeat(1_999)}${'😀'.repeat(10)}`;
      const stored = recordOf({ ...minimal, errorMessage: message }).errorMessage ?? '';
      expect(stored).toBe(`${'a'.repeat(1_999)}😀`);
      expect(stored).not.toMatch(/\p{Cs}/u);
    });

    it('replaces an unpaired surrogate in errorMessage instead of rejecting the run', () => {
      expect(recordOf({ ...minimal, errorMessage: 'cut here \ud83d' }).errorMessage).toBe('cut here \ufffd');
    });

    it('keeps unicode text as sent', () => {
      const record = recordOf({
        ...minimal,
        model: 'モデル-ü',
        errorType: 'Ошибка',
        errorMessage: 'é\u0000\n"',
      });
      expect([record.model, record.errorType, record.errorMessage]).toEqual([
        'モデル-ü',
        'Ошибка',
        'é\u0000\n"',
      ]);
    });
  });

  describe('rejects, naming the field', () => {
    it.each<[string, Record<string, unknown>, string, string]>([
      [
        'a missing executionId',
        { executionId: undefined },
        'executionId',
        'executionId is required: a string of 1–128 characters of A-Z a-z 0-9 . _ : -',
      ],
      [
        'an empty executionId',
        { executionId: '' },
        'executionId',
        'executionId must be 1–128 characters of A-Z a-z 0-9 . _ : -, got ""',
      ],
      [
        'an executionId with a space',
        { executionId: 'run 1' },
        'executionId',
        'executionId must be 1–128 characters of A-Z a-z 0-9 . _ : -, got "run 1"',
      ],
      [
        'a 129-character executionId',
        { executionId: 'x'.repeat(129) },
        'executionId',
        'executionId must be 1–128 characters of A-Z a-z 0-9 . _ : -, got a string of 129 characters',
      ],
      [
        'a numeric executionId',
        { executionId: 42 },
        'executionId',
        'executionId must be a string of 1–128 characters of A-Z a-z 0-9 . _ : -, got 42',
      ],
      [
        'a missing startTime',
        { startTime: undefined },
        'startTime',
        'startTime is required: an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z',
      ],
      [
        'a date without a time',
        { startTime: '2026-10-28' },
        'startTime',
        'startTime must be an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z, got "2026-10-28"',
      ],
      [
        'a local time without offset',
        { startTime: '2026-10-28T10:00:00' },
        'startTime',
        'startTime must be an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z, got "2026-10-28T10:00:00"',
      ],
      [
        'an impossible date',
        { startTime: '2026-02-30T10:00:00Z' },
        'startTime',
        'startTime must be an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z, got "2026-02-30T10:00:00Z"',
      ],
      [
        'epoch milliseconds',
        { endTime: 1793527200000 },
        'endTime',
        'endTime must be an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z, got 1793527200000',
      ],
      [
        'a time before 1970',
        { startTime: '1969-12-31T23:59:59Z' },
        'startTime',
        'startTime 1969-12-31T23:59:59Z is before 1970-01-01T00:00:00Z',
      ],
      ['a missing status', { status: undefined }, 'status', 'status is required: "success" or "failure"'],
      [
        'an unknown status',
        { status: 'SUCCESS' },
        'status',
        'status must be "success" or "failure", got "SUCCESS"',
      ],
      ['an empty model', { model: '' }, 'model', 'model must be 1–100 characters, got 0'],
      [
        'a 101-character model',
        { model: 'm'.repeat(101) },
        'model',
        'model must be 1–100 characters, got 101',
      ],
      [
        'a model with an unpaired surrogate',
        { model: 'm\ud800' },
        'model',
        'model must be valid Unicode text (it has an unpaired surrogate)',
      ],
      [
        'a missing inputTokens',
        { inputTokens: undefined },
        'inputTokens',
        'inputTokens is required: an integer from 0 to 9007199254740991',
      ],
      [
        'negative outputTokens',
        { outputTokens: -1 },
        'outputTokens',
        'outputTokens must be an integer from 0 to 9007199254740991, got -1',
      ],
      [
        'fractional cacheReadTokens',
        { cacheReadTokens: 1.5 },
        'cacheReadTokens',
        'cacheReadTokens must be an integer from 0 to 9007199254740991, got 1.5',
      ],
      [
        '1e300 cacheWriteTokens',
        { cacheWriteTokens: 1e300 },
        'cacheWriteTokens',
        'cacheWriteTokens must be an integer from 0 to 9007199254740991, got 1e+300',
      ],
      [
        'llmCalls above 2^53',
        { llmCalls: 2 ** 53 },
        'llmCalls',
        'llmCalls must be an integer from 0 to 9007199254740991, got 9007199254740992',
      ],
      [
        'toolCalls as a string',
        { toolCalls: '3' },
        'toolCalls',
        'toolCalls must be an integer from 0 to 9007199254740991, got "3"',
      ],
      [
        'filesModified as "NaN"',
        { filesModified: 'NaN' },
        'filesModified',
        'filesModified must be an integer from 0 to 9007199254740991, got "NaN"',
      ],
      [
        'filesModified null',
        { filesModified: null },
        'filesModified',
        'filesModified must be an integer from 0 to 9007199254740991, got null',
      ],
      ['a negative cost', { costUsd: -0.01 }, 'costUsd', 'costUsd must not be negative, got -0.01'],
      [
        'a cost over 1,000,000',
        { costUsd: 1e300 },
        'costUsd',
        'costUsd must be at most 1000000 US dollars, got 1e+300',
      ],
      [
        'a cost as a string',
        { costUsd: '0.5' },
        'costUsd',
        'costUsd must be a number of US dollars from 0 to 1000000, or null, got "0.5"',
      ],
      [
        'an infinite cost',
        { costUsd: Number.POSITIVE_INFINITY },
        'costUsd',
        'costUsd must be a number of US dollars from 0 to 1000000, or null, got Infinity',
      ],
      [
        'a 101-character errorType',
        { errorType: 'e'.repeat(101) },
        'errorType',
        'errorType must be 0–100 characters, got 101',
      ],
      [
        'a null errorType',
        { errorType: null },
        'errorType',
        'errorType must be a string of 0–100 characters, got null',
      ],
      [
        'a numeric errorMessage',
        { errorMessage: 500 },
        'errorMessage',
        'errorMessage must be a string, got 500',
      ],
    ])('rejects %s', (_, overrides, path, message) => {
      expect(errorsOf({ ...minimal, ...overrides })).toEqual([{ path, message }]);
    });

    it('rejects clock skew with both times in the message', () => {
      expect(
        errorsOf({ ...minimal, startTime: '2026-10-28T10:00:00Z', endTime: '2026-10-27T00:00:00Z' }),
      ).toEqual([
        { path: 'endTime', message: 'endTime 2026-10-27T00:00:00Z is before startTime 2026-10-28T10:00:00Z' },
      ]);
    });

    it('reports clock skew together with the item’s other errors', () => {
      const errors = errorsOf({ ...minimal, endTime: '2026-10-27T00:00:00Z', status: 'ok' });
      expect(errors.map((error) => error.path).sort()).toEqual(['endTime', 'status']);
    });

    it('rejects an unknown field such as costUSD and suggests the right spelling', () => {
      expect(errorsOf({ ...minimal, costUSD: 0.5 })).toEqual([
        { path: 'costUSD', message: 'unknown field "costUSD" (did you mean "costUsd"?)' },
      ]);
    });

    it('rejects the durationMs it derives itself', () => {
      expect(errorsOf({ ...minimal, durationMs: 150_000 })).toEqual([
        { path: 'durationMs', message: 'unknown field "durationMs"' },
      ]);
    });

    it('rejects __proto__ and constructor as unknown fields without polluting any prototype', () => {
      const hostile = JSON.parse(
        `{"__proto__": {"polluted": true, "status": "success"}, "constructor": {"prototype": {"polluted": true}}, ${JSON.stringify(minimal).slice(1)}`,
      );
      expect(errorsOf(hostile)).toEqual([
        { path: '__proto__', message: 'unknown field "__proto__"' },
        { path: 'constructor', message: 'unknown field "constructor"' },
      ]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('cuts a huge unknown field name in the message', () => {
      const [error] = errorsOf({ ...minimal, ['k'.repeat(100_000)]: 1 });
      expect(error?.message).toBe(`unknown field "${'k'.repeat(64)}"`);
    });

    it.each([
      ['null', null, 'null'],
      ['an array', [minimal], 'an array'],
      ['a string', 'run-1', '"run-1"'],
      ['a number', 7, '7'],
    ])('rejects %s as not an object', (_, input, received) => {
      expect(errorsOf(input)).toEqual([
        { path: '', message: `an execution must be a JSON object, got ${received}` },
      ]);
    });

    it(`lists at most ${MAX_ERRORS_PER_ITEM} errors for one item and counts the rest`, () => {
      const junk = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`junk${i}`, i]));
      const errors = errorsOf({ ...minimal, ...junk });
      expect(errors).toHaveLength(MAX_ERRORS_PER_ITEM);
      expect(errors.at(-1)).toEqual({ path: '', message: 'and 4981 more errors in this execution' });
    });

    it('rejects every missing required field at once', () => {
      expect(errorsOf({}).map((error) => error.path)).toEqual([
        'executionId',
        'startTime',
        'endTime',
        'status',
        'model',
        'inputTokens',
        'outputTokens',
      ]);
    });
  });
});

describe('truncateChars', () => {
  it('returns short text unchanged', () => {
    expect(truncateChars('abc', 3)).toBe('abc');
  });

  it('cuts at a code point boundary', () => {
    expect(truncateChars('😀😀😀', 2)).toBe('😀😀');
    expect(charLength(truncateChars('a😀b😀c', 4))).toBe(4);
  });
});

describe('plausibility at ingest', () => {
  const nowMs = Date.parse('2026-10-28T12:00:00Z');
  const check = (input: unknown, limits = DEFAULT_RUN_LIMITS) => validateExecution(input, { limits, nowMs });

  it('accepts a run at the limits: endTime at now plus the skew, 24 hours long, $1,000, 2,000,000 tokens', () => {
    const run = {
      ...minimal,
      startTime: '2026-10-27T12:05:00Z',
      endTime: '2026-10-28T12:05:00Z',
      costUsd: 1_000,
      inputTokens: 2_000_000,
      outputTokens: 2_000_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 2_000_000,
    };
    expect(check(run).ok).toBe(true);
  });

  it.each([
    ['an endTime beyond now plus 300 s', { endTime: '2026-10-28T12:05:01Z' }, 'endTime', 'is in the future'],
    ['an endTime in the year 9999', { endTime: '9999-12-31T00:00:00Z' }, 'endTime', 'is in the future'],
    ['a run of 26 years', { startTime: '2000-01-01T00:00:00Z' }, 'endTime', 'longer than 24 hours'],
    ['a cost of $1,000.01', { costUsd: 1_000.01 }, 'costUsd', 'at most 1000 US dollars per run'],
    ['2,000,001 input tokens', { inputTokens: 2_000_001 }, 'inputTokens', 'at most 2000000 per run'],
    ['tokens near 2^53', { cacheReadTokens: 2 ** 53 - 2 }, 'cacheReadTokens', 'at most 2000000 per run'],
  ])('refuses %s, naming the field', (_name, change, field, text) => {
    const result = check({ ...minimal, ...change });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors).toEqual(
        expect.arrayContaining([{ path: field, message: expect.stringContaining(text) }]),
      );
  });

  it('takes configured limits, and refuses a token limit whose 10-year sums would not be exact', () => {
    const limits = runLimitsSchema.parse({ maxDurationHours: 24 * 30, maxTokens: 2_900_000 });
    expect(check({ ...minimal, startTime: '2026-10-01T10:00:00Z', inputTokens: 2_900_000 }, limits).ok).toBe(
      true,
    );
    // 10 years at 10 000 runs/s times the limit must stay below 2^63.
    expect(MAX_TOKENS_EXACT_FOR_TEN_YEARS * RUNS_IN_TEN_YEARS_AT_10K_PER_SECOND).toBeLessThan(2 ** 63);
    expect(runLimitsSchema.safeParse({ maxTokens: MAX_TOKENS_EXACT_FOR_TEN_YEARS + 1 }).success).toBe(false);
    expect(runLimitsSchema.safeParse({ maxCostUsd: -1 }).success).toBe(false);
    expect(runLimitsSchema.parse(undefined)).toEqual(DEFAULT_RUN_LIMITS);
  });
});
