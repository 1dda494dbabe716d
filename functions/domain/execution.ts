/**
 * The execution record: one finished run of the fixer agent. This zod schema
 * is the single definition of the record: the ingest handler validates with
 * it, the TypeScript types come from it, and the dashboard imports the types.
 *
 * "Characters" in the limits below are Unicode code points, so an emoji counts
 * once and a cut never splits a surrogate pair.
 */
import { z } from 'zod';
import { nanosToUsd, usdToNanos } from './money';

const EXECUTION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const MODEL_MAX_CHARS = 100;
const ERROR_TYPE_MAX_CHARS = 100;
export const ERROR_MESSAGE_MAX_CHARS = 2_000;
/** Largest integer a JSON number carries exactly; counts above it would be rounded. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/** One run costing more than this is a unit mistake (cents, micro-dollars), not a run. */
const MAX_COST_USD = 1_000_000;
/**
 * Earliest accepted instant. Stored keys order runs by zero-padded epoch
 * milliseconds, which only sort correctly when they are not negative.
 */
const EARLIEST_INSTANT = '1970-01-01T00:00:00Z';
/** `2026-11-01T10:00:00.123456789+05:30`: nanosecond precision and an offset. */
const MAX_INSTANT_LENGTH = 35;
/** How many errors one rejected item reports; the rest are counted, not listed. */
export const MAX_ERRORS_PER_ITEM = 20;

/** Number of Unicode code points in `text`. */
export function charLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Cuts a string to at most `max` code points, so a surrogate pair is never split. */
export function truncateChars(text: string, max: number): string {
  // Fast path: fewer UTF-16 units than the limit means fewer code points too.
  if (text.length <= max) return text;
  let end = 0;
  let count = 0;
  for (const char of text) {
    if (count === max) return text.slice(0, end);
    end += char.length;
    count++;
  }
  return text;
}

/** In a `u` regex, `\p{Cs}` matches only surrogates that are not part of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Replaces unpaired surrogates with U+FFFD, so the text survives UTF-8 storage unchanged. */
function toWellFormed(text: string): string {
  return LONE_SURROGATE.test(text) ? text.replace(/\p{Cs}/gu, '\uFFFD') : text;
}

/** A short description of a received value for error messages; never echoes much of the input. */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

const got = (issue: { input?: unknown }) => `, got ${describeReceived(issue.input)}`;

/** Error text for a missing required value, or one of the wrong type. */
const expected =
  (field: string, what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `${field} is required: ${what}` : `${field} must be ${what}${got(issue)}`;

const count = (field: string) => {
  const message = expected(field, `an integer from 0 to ${MAX_COUNT}`);
  return z.int({ error: message }).min(0, { error: message });
};

const isoDateTime = z.iso.datetime({ offset: true });
const INSTANT_FORMAT = 'an ISO 8601 date-time with seconds and Z or an offset, e.g. 2026-11-01T10:00:00Z';

/** True for the date-times we accept: RFC 3339 (ISO 8601 with seconds and Z or an offset), from 1970 on. */
function isAcceptedInstant(text: unknown): boolean {
  return (
    typeof text === 'string' &&
    text.length <= MAX_INSTANT_LENGTH &&
    isoDateTime.safeParse(text).success &&
    Date.parse(text) >= Date.parse(EARLIEST_INSTANT)
  );
}

const instant = (field: string) =>
  z.string({ error: expected(field, INSTANT_FORMAT) }).superRefine((text, context) => {
    if (isAcceptedInstant(text)) return;
    const wellFormed =
      text.length <= MAX_INSTANT_LENGTH &&
      isoDateTime.safeParse(text).success &&
      Number.isFinite(Date.parse(text));
    context.addIssue({
      code: 'custom',
      message: wellFormed
        ? `${field} ${text} is before ${EARLIEST_INSTANT}`
        : `${field} must be ${INSTANT_FORMAT}${got({ input: text })}`,
    });
  });

/**
 * Characters a label may not hold: C0 and C1 controls (`\t=1+1` in a CSV
 * cell, `\r` in a log line), bidi controls that reverse what follows
 * (U+202A–U+202E, U+2066–U+2069), and zero-width characters that make two
 * different names look the same (U+200B–U+200D, U+2060, U+FEFF).
 */
const NOT_IN_LABELS = /[\p{Cc}\u202A-\u202E\u2066-\u2069\u200B-\u200D\u2060\uFEFF]/u;

/** Why `text` is not an acceptable label, or undefined; `refuseComma` for names the model filter lists. */
export function labelProblem(field: string, text: string, refuseComma: boolean): string | undefined {
  if (LONE_SURROGATE.test(text)) return `${field} must be valid Unicode text (it has an unpaired surrogate)`;
  const forbidden = NOT_IN_LABELS.exec(text);
  if (forbidden) {
    const code = forbidden[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
    return `${field} must not contain control, bidi or zero-width characters (U+${code} at ${forbidden.index})`;
  }
  if (/^\s|\s$/u.test(text)) return `${field} must not start or end with white space`;
  if (refuseComma && text.includes(','))
    return `${field} must not contain a comma (the model filter is a comma-separated list)`;
  return undefined;
}

/**
 * A label: a field that becomes part of an aggregate key and a filter. It is
 * an identifier, so it is refused rather than repaired, and stored in
 * Unicode NFC so that the same name typed two ways is one name.
 */
const label = (field: string, min: number, max: number, { refuseComma = false } = {}) =>
  z
    .string({ error: expected(field, `a string of ${min}–${max} characters`) })
    .transform((text) => text.normalize('NFC'))
    .superRefine((text, context) => {
      const length = charLength(text);
      const problem =
        length < min || length > max
          ? `${field} must be ${min}–${max} characters, got ${length}`
          : labelProblem(field, text, refuseComma);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    });

const costUsd = z
  .number({
    error: expected('costUsd', `a number of US dollars from 0 to ${MAX_COST_USD}, or null`),
  })
  .min(0, { error: (issue) => `costUsd must not be negative${got(issue)}` })
  .max(MAX_COST_USD, { error: (issue) => `costUsd must be at most ${MAX_COST_USD} US dollars${got(issue)}` })
  // Rounded to the nanodollar here, so the validated record is exactly what is
  // stored, hashed and read back.
  .transform((usd) => nanosToUsd(usdToNanos(usd)))
  .nullable()
  .default(null);

const executionShape = {
  executionId: z
    .string({ error: expected('executionId', 'a string of 1–128 characters of A-Z a-z 0-9 . _ : -') })
    .regex(EXECUTION_ID_PATTERN, {
      error: (issue) => `executionId must be 1–128 characters of A-Z a-z 0-9 . _ : -${got(issue)}`,
    }),
  startTime: instant('startTime'),
  endTime: instant('endTime'),
  status: z.enum(['success', 'failure'], {
    error: expected('status', '"success" or "failure"'),
  }),
  model: label('model', 1, MODEL_MAX_CHARS, { refuseComma: true }),
  inputTokens: count('inputTokens'),
  outputTokens: count('outputTokens'),
  cacheReadTokens: count('cacheReadTokens').default(0),
  cacheWriteTokens: count('cacheWriteTokens').default(0),
  costUsd,
  llmCalls: count('llmCalls').default(0),
  toolCalls: count('toolCalls').default(0),
  filesModified: count('filesModified').default(0),
  // An empty errorType is the same as none: the run counts as `Unknown`.
  errorType: label('errorType', 0, ERROR_TYPE_MAX_CHARS)
    .transform((text) => (text === '' ? undefined : text))
    .optional(),
  // Free text from tool output: repaired and cut rather than rejected.
  errorMessage: z
    .string({ error: expected('errorMessage', 'a string') })
    .transform((text) => toWellFormed(truncateChars(text, ERROR_MESSAGE_MAX_CHARS)))
    .optional(),
};

const executionRecordSchema = z
  .strictObject(executionShape, {
    error: (issue) =>
      issue.code === 'invalid_type' ? `an execution must be a JSON object${got(issue)}` : undefined,
  })
  .superRefine(
    (record, context) => {
      if (Date.parse(record.endTime) < Date.parse(record.startTime)) {
        context.addIssue({
          code: 'custom',
          path: ['endTime'],
          message: `endTime ${record.endTime} is before startTime ${record.startTime}`,
        });
      }
    },
    {
      // Also check the clock skew when other fields are wrong, so that one
      // answer lists every problem of the item.
      when: (payload) => {
        const value = payload.value as { startTime?: unknown; endTime?: unknown } | null;
        return isAcceptedInstant(value?.startTime) && isAcceptedInstant(value?.endTime);
      },
    },
  )
  .transform((record) => {
    // An empty errorType became undefined above; drop the key so the record reads as "none".
    if (record.errorType === undefined) delete record.errorType;
    return record;
  });

/** What a client sends (optional fields may be absent). */
export type ExecutionInput = z.input<typeof executionRecordSchema>;
/** A validated record with defaults applied. */
export type ExecutionRecord = z.output<typeof executionRecordSchema>;
/**
 * A record as the API returns it, with the derived duration and, for a run
 * that reported no cost, the cost estimated at ingest (docs/API.md).
 */
export type ExecutionView = ExecutionRecord & { durationMs: number; estimatedCostUsd?: number };

export interface FieldError {
  /** Dotted path of the offending field, e.g. `costUsd`; empty for the whole item. */
  readonly path: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly record: ExecutionRecord }
  | { readonly ok: false; readonly errors: FieldError[] };

/** A field name as sent, safe to echo: quoted, escaped and cut to 64 characters. */
function quoteKey(key: string): string {
  return JSON.stringify(truncateChars(key, 64));
}

/** Turns zod issues into field errors whose path and message name the field. */
function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path.map(String), truncateChars(key, 64)].join('.'),
        message: `unknown field ${quoteKey(key)}${suggestField(key)}`,
      }));
    }
    const path = issue.path.map(String).join('.');
    return [{ path, message: issue.message }];
  });
}

const knownFields = Object.keys(executionShape);

/** A hint for the typo case the contract calls out: `costUSD` for `costUsd`. */
function suggestField(key: string): string {
  const match = knownFields.find((field) => field.toLowerCase() === key.toLowerCase());
  return match ? ` (did you mean "${match}"?)` : '';
}

/** Keeps a rejection readable and its response small, whatever the item holds. */
function capErrors(errors: FieldError[]): FieldError[] {
  if (errors.length <= MAX_ERRORS_PER_ITEM) return errors;
  const shown = errors.slice(0, MAX_ERRORS_PER_ITEM - 1);
  return [
    ...shown,
    { path: '', message: `and ${errors.length - shown.length} more errors in this execution` },
  ];
}

/**
 * What a run may plausibly be; beyond it a run is a client's mistake (a
 * clock years ahead, a unit error) that would stay in the aggregates for
 * good. Deployment configuration: see docs/QUERY.md "Limits at ingest".
 */
export interface RunLimits {
  /** How far endTime may lie ahead of the receiving clock. */
  readonly clockSkewSeconds: number;
  /** Longest endTime − startTime. */
  readonly maxDurationHours: number;
  /** Most one run may cost. */
  readonly maxCostUsd: number;
  /** Most of each token count (input, output, cache read, cache write) in one run. */
  readonly maxTokens: number;
}

/**
 * Runs in 10 years at 10 000 runs per second: 10 × 365.25 × 86 400 × 10^4
 * = 3.15576 × 10^12. Token totals stay exact in a signed 64-bit integer
 * (< 2^63 ≈ 9.223 × 10^18) when a run holds at most 2^63 / 3.15576 × 10^12
 * = 2 922 710 tokens of a kind; the default, 2 000 000, sums to at most
 * 6.31 × 10^18. Costs are summed as bigint nanodollars in decimal strings:
 * $1 000 a run sums to 3.16 × 10^24 nanodollars, 25 digits, exact, and within
 * a DynamoDB number's 38 digits.
 */
export const RUNS_IN_TEN_YEARS_AT_10K_PER_SECOND = 10 * 365.25 * 86_400 * 10_000;
export const MAX_TOKENS_EXACT_FOR_TEN_YEARS = Math.floor(2 ** 63 / RUNS_IN_TEN_YEARS_AT_10K_PER_SECOND);

export const DEFAULT_RUN_LIMITS: RunLimits = {
  clockSkewSeconds: 300,
  maxDurationHours: 24,
  maxCostUsd: 1_000,
  maxTokens: 2_000_000,
};

const limit = (name: string, max: number) =>
  z
    .number({ error: `${name} must be a number from 1 to ${max}` })
    .positive({ error: `${name} must be a number from 1 to ${max}` })
    .max(max, { error: `${name} must be at most ${max}` });

/** The limits as configured (RUN_LIMITS, a JSON object); absent keys take the defaults. */
export const runLimitsSchema = z
  .strictObject({
    clockSkewSeconds: limit('clockSkewSeconds', 86_400).default(DEFAULT_RUN_LIMITS.clockSkewSeconds),
    maxDurationHours: limit('maxDurationHours', 24 * 366).default(DEFAULT_RUN_LIMITS.maxDurationHours),
    maxCostUsd: limit('maxCostUsd', MAX_COST_USD).default(DEFAULT_RUN_LIMITS.maxCostUsd),
    maxTokens: limit('maxTokens', MAX_TOKENS_EXACT_FOR_TEN_YEARS)
      .int({ error: 'maxTokens must be an integer' })
      .default(DEFAULT_RUN_LIMITS.maxTokens),
  })
  .default(DEFAULT_RUN_LIMITS);

const TOKEN_FIELDS = ['inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens'] as const;

/** Where a valid record goes beyond what a run may plausibly be, each naming its field. */
function implausibilities(record: ExecutionRecord, limits: RunLimits, nowMs: number): FieldError[] {
  const errors: FieldError[] = [];
  const latestEnd = nowMs + limits.clockSkewSeconds * 1000;
  if (Date.parse(record.endTime) > latestEnd)
    errors.push({
      path: 'endTime',
      message: `endTime ${record.endTime} is in the future (more than ${limits.clockSkewSeconds} s after ${new Date(nowMs).toISOString()})`,
    });
  if (durationMsOf(record) > limits.maxDurationHours * 3_600_000)
    errors.push({
      path: 'endTime',
      message: `the run lasts longer than ${limits.maxDurationHours} hours (endTime − startTime)`,
    });
  if (record.costUsd !== null && record.costUsd > limits.maxCostUsd)
    errors.push({
      path: 'costUsd',
      message: `costUsd must be at most ${limits.maxCostUsd} US dollars per run, got ${record.costUsd}`,
    });
  for (const field of TOKEN_FIELDS) {
    if (record[field] > limits.maxTokens)
      errors.push({
        path: field,
        message: `${field} must be at most ${limits.maxTokens} per run, got ${record[field]}`,
      });
  }
  return errors;
}

/** What a run is checked against beyond its shape: the limits, at the receiving clock's now. */
export interface Plausibility {
  readonly limits: RunLimits;
  readonly nowMs: number;
}

/**
 * Validates one execution object, and when `plausibility` is given, that it
 * is within the limits. Never throws.
 */
export function validateExecution(input: unknown, plausibility?: Plausibility): ValidationResult {
  const parsed = executionRecordSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: capErrors(toFieldErrors(parsed.error.issues)) };
  const errors = plausibility ? implausibilities(parsed.data, plausibility.limits, plausibility.nowMs) : [];
  return errors.length === 0 ? { ok: true, record: parsed.data } : { ok: false, errors };
}

/** endTime − startTime in milliseconds; never negative for a validated record. */
export function durationMsOf(record: Pick<ExecutionRecord, 'startTime' | 'endTime'>): number {
  return Date.parse(record.endTime) - Date.parse(record.startTime);
}
