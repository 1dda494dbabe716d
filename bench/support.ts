/**
 * Small helpers every bench suite uses.
 */
import { exactPercentile } from '../functions/domain/sketch';

/** The number after `--name` on the command line, or `fallback` when absent or not a positive number (or zero, when allowed). */
export function flagNumber(
  flags: readonly string[],
  name: string,
  fallback: number,
  { zeroAllowed = false } = {},
): number {
  const index = flags.indexOf(name);
  const value = index >= 0 ? Number(flags[index + 1]) : Number.NaN;
  return Number.isFinite(value) && (value > 0 || (zeroAllowed && value === 0)) ? value : fallback;
}

/** Nearest-rank percentile of measured values (NaN when there are none, so a table shows it). */
export function percentile(values: readonly number[], quantile: number): number {
  return exactPercentile(values, quantile) ?? Number.NaN;
}
