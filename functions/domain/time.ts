/**
 * UTC time buckets. Every aggregate attributes a run to the UTC hour in which
 * it started; days (UTC or local) are built from hours.
 */

const HOUR_MS = 3_600_000;

/** `2026-11-01T13` for any instant within 13:00–13:59:59.999 UTC. */
export function utcHourKey(epochMs: number): string {
  return new Date(Math.floor(epochMs / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);
}

/** `2026-11-01` for any instant of that UTC day. */
export function utcDayKey(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export { HOUR_MS };
