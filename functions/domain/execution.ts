/**
 * The execution record: one finished run of the fixer agent. This zod schema
 * is the single definition of the record: the ingest handler validates with
 * it, the TypeScript types come from it, and the dashboard imports the types.
 */
import { z } from 'zod';

export const ERROR_MESSAGE_MAX_CHARS = 2_000;
export const MAX_COST_USD = 1_000_000;

const count = (field: string) =>
  z.int({ error: `${field} must be an integer ≥ 0` }).min(0, { error: `${field} must be an integer ≥ 0` });

const instant = (field: string) =>
  z.iso.datetime({
    offset: true,
    error: `${field} must be an ISO 8601 date-time with Z or an offset, e.g. 2026-11-01T10:00:00Z`,
  });

/** Cuts a string to at most `max` characters without splitting a surrogate pair. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}

export const executionRecordSchema = z
  .strictObject(
    {
      executionId: z.string({ error: 'executionId must be a string' }).regex(/^[A-Za-z0-9._:-]{1,128}$/, {
        error: 'executionId must be 1–128 characters of A-Z a-z 0-9 . _ : -',
      }),
      startTime: instant('startTime'),
      endTime: instant('endTime'),
      status: z.enum(['success', 'failure'], { error: 'status must be "success" or "failure"' }),
      model: z
        .string({ error: 'model must be a string' })
        .min(1, { error: 'model must be 1–100 characters' })
        .max(100, { error: 'model must be 1–100 characters' }),
      inputTokens: count('inputTokens'),
      outputTokens: count('outputTokens'),
      cacheReadTokens: count('cacheReadTokens').default(0),
      cacheWriteTokens: count('cacheWriteTokens').default(0),
      costUsd: z
        .number({ error: 'costUsd must be a number ≥ 0 or null' })
        .min(0, { error: 'costUsd must be a number ≥ 0 or null' })
        .max(MAX_COST_USD, { error: `costUsd must be at most ${MAX_COST_USD}` })
        .nullable()
        .default(null),
      llmCalls: count('llmCalls').default(0),
      toolCalls: count('toolCalls').default(0),
      filesModified: count('filesModified').default(0),
      errorType: z
        .string({ error: 'errorType must be a string' })
        .min(1, { error: 'errorType must be 1–100 characters' })
        .max(100, { error: 'errorType must be 1–100 characters' })
        .optional(),
      errorMessage: z
        .string({ error: 'errorMessage must be a string' })
        .transform((text) => truncateChars(text, ERROR_MESSAGE_MAX_CHARS))
        .optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'an execution must be a JSON object' : undefined) },
  )
  .superRefine((record, context) => {
    if (Date.parse(record.endTime) < Date.parse(record.startTime)) {
      context.addIssue({
        code: 'custom',
        path: ['endTime'],
        message: `endTime ${record.endTime} is before startTime ${record.startTime}`,
      });
    }
  });

/** What a client sends (optional fields may be absent). */
export type ExecutionInput = z.input<typeof executionRecordSchema>;
/** A validated record with defaults applied. */
export type ExecutionRecord = z.output<typeof executionRecordSchema>;
/** A record as the API returns it, with the derived duration. */
export type ExecutionView = ExecutionRecord & { durationMs: number };

export interface FieldError {
  /** Dotted path of the offending field, e.g. `costUsd`; empty for the whole item. */
  readonly path: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly record: ExecutionRecord }
  | { readonly ok: false; readonly errors: FieldError[] };

/** Turns zod issues into field errors whose path and message name the field. */
export function toFieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path, key].join('.'),
        message: `unknown field "${key}"${suggestField(key)}`,
      }));
    }
    const path = issue.path.map(String).join('.');
    return [{ path, message: issue.message }];
  });
}

const knownFields = Object.keys(executionRecordSchema.shape);

/** A hint for the typo case the contract calls out: `costUSD` for `costUsd`. */
function suggestField(key: string): string {
  const match = knownFields.find((field) => field.toLowerCase() === key.toLowerCase());
  return match ? ` (did you mean "${match}"?)` : '';
}

/** Validates one execution object. Never throws. */
export function validateExecution(input: unknown): ValidationResult {
  const parsed = executionRecordSchema.safeParse(input);
  return parsed.success
    ? { ok: true, record: parsed.data }
    : { ok: false, errors: toFieldErrors(parsed.error.issues) };
}

/** endTime − startTime in milliseconds; never negative for a validated record. */
export function durationMsOf(record: Pick<ExecutionRecord, 'startTime' | 'endTime'>): number {
  return Date.parse(record.endTime) - Date.parse(record.startTime);
}
