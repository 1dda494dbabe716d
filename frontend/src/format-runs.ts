/**
 * Formatting that only the runs table uses: a module of its own, so it loads
 * with that lazy chunk instead of with the dashboard's first paint.
 */
import type { ExecutionView } from './api-types';
import { dateFormat, formatUsd } from './format';

/** Cuts text at `max` characters with an ellipsis; whole when it fits. */
export function truncateText(text: string, max = 100): { text: string; truncated: boolean } {
  const characters = Array.from(text);
  if (characters.length <= max) return { text, truncated: false };
  return { text: `${characters.slice(0, max).join('')}…`, truncated: true };
}

/** A run's start time in the dashboard's zone: "2026-11-03 14:05:09". */
export function formatDateTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateFormat('sv-SE', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZone,
  }).format(date);
}

/** A run's cost: as reported, else its estimate marked "est.", else "unknown". */
export function runCostText(run: Pick<ExecutionView, 'costUsd' | 'estimatedCostUsd'>): string {
  if (run.costUsd != null) return formatUsd(run.costUsd);
  return run.estimatedCostUsd === undefined ? 'unknown' : `${formatUsd(run.estimatedCostUsd)} est.`;
}
