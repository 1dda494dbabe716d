/**
 * The daily aggregate audit (functions/audit.ts): which days it checks and
 * when. It recomputes those days' aggregate items from the Executions table,
 * as `npm run rebuild -- --check` does, and pages when a settled item
 * differs (ADR 0001, Decision 2: the one way exactly-once can fail is a
 * silent undercount after an out-of-order redelivery; this finds it within
 * a day instead of waiting for someone to run the check).
 */

import { DAY_MS } from './local-time';
import { utcDayKey } from './time';

/** When the audit runs, UTC: after the second day back can no longer change (below). */
export const AUDIT_SCHEDULE_UTC = { hour: 3, minute: 30 } as const;

/** Settle rounds per day: an item still changing after them is reported as such, never as a difference. */
export const AUDIT_ROUNDS = 2;

/** The most days one invocation checks (a day takes two reads of its runs and a settle window). */
export const MAX_AUDITED_DAYS = 7;

/**
 * The UTC days an audit at `nowMs` checks: the day before yesterday, whose
 * runs can no longer arrive (a run is stored at most `maxDurationHours`, 24 h
 * by default, after it starts), and yesterday, whose items that still change
 * are left for the next audit, which checks that day again. Each day is thus
 * checked twice, the second time settled.
 */
export function auditedDays(nowMs: number): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return [2, 1].map((back) => utcDayKey(today - back * DAY_MS));
}
