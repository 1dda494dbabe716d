/**
 * Data literacy: what the numbers on screen do and do not include. Warnings
 * say what a filter hides, hints say how charts relate, and subtitles restate
 * the active filters under every chart so a screenshot cannot mislead.
 */
import { CACHE_HIT_TARGET, SUCCESS_RATE_TARGET } from '../../functions/domain/targets';
import type { Granularity, Summary } from './api-types';
import { dateFormat, formatCount, formatPercent, formatUsd } from './format';
import { daysInclusive, type ViewState } from './state';

/** "1 day", "7 days". */
function dayCount(days: number): string {
  return days === 1 ? '1 day' : `${days} days`;
}

/** Below this many runs a rate moves by whole percents with each run. */
const LOW_VOLUME_RUNS = 30;

/** Warnings for the current filters and data, most important first. */
export function filterWarnings(state: ViewState, summary: Summary | undefined): string[] {
  const warnings: string[] = [];
  if (state.status === 'success') {
    warnings.push(
      'Only successful runs are shown: the cost of failed runs is hidden, and the success rate is 100 % by construction.',
    );
  } else if (state.status === 'failure') {
    warnings.push(
      'Only failed runs are shown: the success rate is 0 % by construction, and costs are what failures cost.',
    );
  }
  if (state.models.length > 0) {
    const names = state.models.join(', ');
    warnings.push(`Filtered to ${names}: totals and rates leave out every other model.`);
  }
  if (summary) {
    const {
      estimatedUsd,
      totalUsd,
      runsWithEstimatedCost: estimated,
      runsWithUnknownCost: unknown,
    } = summary.cost;
    const runs = (count: number) => `${formatCount(count)} ${count === 1 ? 'run' : 'runs'}`;
    const parts = [
      estimated > 0
        ? `${formatUsd(estimatedUsd)} of the ${formatUsd(totalUsd)} cost is estimated from model list prices for ${runs(estimated)} that reported no cost`
        : '',
      unknown > 0
        ? `${runs(unknown)} ${unknown === 1 ? 'has' : 'have'} no cost at all (no price for the model) and ${unknown === 1 ? 'counts' : 'count'} as $0, so costs are understated`
        : '',
    ].filter(Boolean);
    if (parts.length > 0) warnings.push(`${parts.join('; ')}.`);
    if (summary.executions > 0 && summary.executions < LOW_VOLUME_RUNS) {
      warnings.push(
        `Only ${formatCount(summary.executions)} runs in this range: each run moves the rates by several percent.`,
      );
    }
  }
  return warnings;
}

/** Fixed hints that tell a reader how two charts relate. */
export const hints = {
  cost: 'Total spend follows volume; cost per run (right axis) shows whether runs got cheaper or dearer.',
  tokens: 'Tokens drive cost: a rise here shows up in the cost chart.',
  duration: 'Duration includes non-LLM time: tool calls, test runs and waiting on rate limits.',
  successRate: `On-call is paged when the rate over the last hour falls below ${formatPercent(SUCCESS_RATE_TARGET, 0)}.`,
  cache: `Cache reads cost a fraction of fresh input tokens; the target is above ${formatPercent(CACHE_HIT_TARGET, 0)}.`,
  errors: 'Share is of all failures in the range, so shares add up to 100 % with "Other".',
} as const;

/** "per day" or "per hour". */
function perBucket(granularity: Granularity): string {
  return granularity === 'day' ? 'per day' : 'per hour';
}

const presetNames = {
  '24h': 'last 24 hours',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
  '90d': 'last 90 days',
};

/** The active filters in a few words: "last 7 days · all models · all runs · UTC". */
export function describeFilters(state: ViewState): string {
  const range =
    state.range === 'custom' && state.from && state.to
      ? `${state.from} to ${state.to} (${dayCount(daysInclusive(state.from, state.to))})`
      : presetNames[state.range === 'custom' ? '7d' : state.range];
  const models =
    state.models.length === 0
      ? 'all models'
      : state.models.length <= 2
        ? state.models.join(', ')
        : `${state.models.length} models`;
  const status =
    state.status === 'all'
      ? 'all runs'
      : state.status === 'success'
        ? 'successful runs only'
        : 'failed runs only';
  return [range, models, status, state.tz].join(' · ');
}

/** A chart subtitle: what is measured, per which bucket, under which filters. */
export function chartSubtitle(
  measure: string,
  granularity: Granularity | undefined,
  state: ViewState,
): string {
  const head = granularity ? `${measure} ${perBucket(granularity)}` : measure;
  return `${head} · ${describeFilters(state)}`;
}

/** What to try when a view has no runs. */
export function emptySuggestion(state: ViewState): string {
  if (state.models.length > 0 || state.status !== 'all') return 'Try clearing the model and status filters.';
  if (state.range !== '90d') return 'Try a longer range, such as the last 90 days.';
  return 'No runs were recorded yet: send one to POST /api/executions.';
}

const HOUR_MS = 3_600_000;

/** 161 hours → "6 d 17 h"; 5 → "5 h"; 168 → "7 days". */
function spanText(hours: number): string {
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  if (rest === 0) return dayCount(days);
  return days === 0 ? `${rest} h` : `${days} d ${rest} h`;
}

/**
 * What the KPI changes compare, in one line under the cards. When the range
 * is still running (it ends today), the previous period is cut to the same
 * elapsed span, and the line says so: "Changes compare these 6 d 17 h with
 * the first 6 d 17 h of the 7 days before (Oct 23, 00:00 – Oct 29, 17:00)".
 */
export function comparisonText(
  summary: Pick<Summary, 'from' | 'to' | 'tz' | 'previous'>,
  nowMs: number,
): string {
  const { from, to } = summary.previous;
  const periodHours = Math.round((Date.parse(summary.to) - Date.parse(summary.from)) / HOUR_MS);
  // Days (23 or 25 hours long across a DST change) for anything longer than two days.
  const period = periodHours <= 48 ? `${periodHours} hours` : dayCount(Math.round(periodHours / 24));
  if (!from || !to) return `Changes compare with the ${period} before.`;
  const format = dateFormat('en-US', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: summary.tz,
  });
  const edges = `${format.format(new Date(from))} – ${format.format(new Date(to))}`;
  const comparedHours = Math.round((Date.parse(to) - Date.parse(from)) / HOUR_MS);
  const cut = Date.parse(to) < Date.parse(summary.from) && Date.parse(summary.to) > nowMs;
  if (!cut) return `Changes compare with the ${period} before (${edges}).`;
  const span = spanText(comparedHours);
  return `This period has run ${span} so far: changes compare it with the first ${span} of the ${period} before (${edges}).`;
}
