/**
 * CSV export of runs (RFC 4180: comma separated, CRLF line ends, fields with
 * a comma, quote or line break quoted, quotes doubled). Pure.
 */
import type { ExecutionView } from './execution';

const CSV_COLUMNS = [
  'executionId',
  'startTime',
  'endTime',
  'durationMs',
  'status',
  'model',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'costUsd',
  'estimatedCostUsd',
  'llmCalls',
  'toolCalls',
  'filesModified',
  'errorType',
  'errorMessage',
] as const satisfies readonly (keyof ExecutionView)[];

/** Free text written by agents; see csvCell. */
const FREE_TEXT = new Set<string>(['model', 'errorType', 'errorMessage']);

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field (null, undefined and a number that is not finite: empty). Free
 * text that starts like a spreadsheet formula (= + - @, tab, CR) gets a
 * leading apostrophe, so that opening the export cannot run an agent's error
 * message as a formula (OWASP "CSV injection"); a number never does. The
 * dashboard's chart exports use it too (frontend/src/csv.ts).
 */
export function csvCell(value: unknown, freeText = false): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' && !Number.isFinite(value)) return '';
  let text = String(value);
  if (freeText && typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(run: ExecutionView): string {
  return `${CSV_COLUMNS.map((column) => csvCell(run[column], FREE_TEXT.has(column))).join(',')}\r\n`;
}
