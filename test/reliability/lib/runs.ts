/**
 * Deterministic execution records for the reliability suites: the same
 * (prefix, index, version) always gives the same run, so a suite can say
 * exactly what it sent without keeping every body in memory.
 */

/** The days every generated run starts in (UTC, `to` inclusive). */
export const RUN_WINDOW = { from: '2026-10-01', to: '2026-10-28' } as const;
const WINDOW_START_MS = Date.parse(`${RUN_WINDOW.from}T00:00:00Z`);
const WINDOW_HOURS = 28 * 24;

const MODELS = ['claude-sonnet-4', 'claude-opus-4', 'gpt-5', 'gemini-2.5-pro'] as const;
const ERROR_TYPES = [
  'RateLimitError',
  'ContextWindowExceeded',
  'ToolError',
  'TestFailure',
  'Timeout',
] as const;

/** 32-bit FNV-1a of a string: a seed per run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny seeded PRNG, good enough to spread test data. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runId(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export interface RunShape {
  /**
   * Runs start within the first `hours` hours of the window. Agents report runs
   * as they finish, so live traffic falls into a few hours, which is what lets
   * the aggregate handler pre-aggregate a batch; the default spreads runs over
   * the whole window to touch many buckets. @default 672 (28 days)
   */
  readonly hours?: number;
}

/**
 * One valid execution record. `version` > 0 gives a correction of the same
 * executionId with other content (possibly another model, status and day).
 */
export function makeRun(
  prefix: string,
  index: number,
  version = 0,
  shape: RunShape = {},
): Record<string, unknown> {
  const next = random(hash(`${prefix}/${index}/${version}`));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const hours = Math.min(shape.hours ?? WINDOW_HOURS, WINDOW_HOURS);
  const startMs = WINDOW_START_MS + Math.floor(next() * hours) * 3_600_000 + Math.floor(next() * 3_600_000);
  const durationMs = 1_000 + Math.floor(next() * 600_000);
  const failed = next() < 0.12;
  const run: Record<string, unknown> = {
    executionId: runId(prefix, index),
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + durationMs).toISOString(),
    status: failed ? 'failure' : 'success',
    model: pick(MODELS),
    inputTokens: Math.floor(next() * 50_000),
    outputTokens: Math.floor(next() * 8_000),
    cacheReadTokens: Math.floor(next() * 40_000),
    cacheWriteTokens: Math.floor(next() * 5_000),
    // Six decimals, as agents report them; one run in twenty has no known cost.
    costUsd: next() < 0.05 ? null : Math.floor(next() * 2_000_000) / 1_000_000,
    llmCalls: Math.floor(next() * 40),
    toolCalls: Math.floor(next() * 80),
    filesModified: failed ? 0 : Math.floor(next() * 12),
  };
  if (failed) {
    // One failure in ten carries no errorType and counts as Unknown.
    if (next() < 0.9) run.errorType = pick(ERROR_TYPES);
    run.errorMessage = `run ${index} failed (v${version})`;
  }
  return run;
}

/** Runs `first` … `first + count - 1` of `prefix`. */
export function makeRuns(
  prefix: string,
  first: number,
  count: number,
  version = 0,
  shape: RunShape = {},
): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, offset) => makeRun(prefix, first + offset, version, shape));
}
