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

/**
 * One field. Free text that starts like a spreadsheet formula (= + - @, tab,
 * CR) gets a leading apostrophe, so that opening the export cannot run an
 * agent's error message as a formula (OWASP "CSV injection").
 */
export function csvCell(value: unknown, freeText = false): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (freeText && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(run: ExecutionView): string {
  return `${CSV_COLUMNS.map((column) => csvCell(run[column], FREE_TEXT.has(column))).join(',')}\r\n`;
}
