/**
 * Demo data: a few weeks of plausible fixer-agent runs, sent through the real
 * ingest path (POST /api/executions), so that a newcomer's dashboard fills
 * within seconds and every chart has something to show.
 *
 * Generation is deterministic: each UTC hour, and each run in it, draws from
 * its own seeded PRNG, so an hour always yields the same runs with the same
 * ids. Incidents sit at fixed days before an anchor (the first seeding), and
 * a top-up (with --data-dir, on the next start) sends only runs that ended
 * after the previous seeding: nothing is sent twice or changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ExecutionRecord } from '../functions/domain/execution';

/** A demo run is exactly what an agent posts: the record of the shared schema. */
export type DemoRun = ExecutionRecord;

interface ModelProfile {
  readonly name: string;
  /** Share of runs at normal times. */
  readonly share: number;
  readonly successRate: number;
  /** USD per million tokens. */
  readonly price: { input: number; output: number; cacheRead: number; cacheWrite: number };
  /** Median run duration in seconds, and the spread (sigma of its logarithm). */
  readonly durationMedianS: number;
  readonly durationSigma: number;
  /** Median prompt tokens (input + cache) and output tokens over a whole run. */
  readonly promptTokensMedian: number;
  readonly outputTokensMedian: number;
  readonly cacheHitRate: number;
  /** Relative weights of error types when a run fails. */
  readonly errorWeights: Readonly<Record<ErrorType, number>>;
}

type ErrorType =
  | 'TestFailure'
  | 'ToolExecutionError'
  | 'RateLimitError'
  | 'Timeout'
  | 'ContextWindowExceeded';

const typicalErrors: Record<ErrorType, number> = {
  TestFailure: 36,
  ToolExecutionError: 24,
  RateLimitError: 14,
  Timeout: 13,
  ContextWindowExceeded: 13,
};

export const demoModels: readonly ModelProfile[] = [
  {
    name: 'claude-sonnet-4',
    share: 0.4,
    successRate: 0.92,
    price: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
    durationMedianS: 150,
    durationSigma: 0.6,
    promptTokensMedian: 90_000,
    outputTokensMedian: 7_000,
    cacheHitRate: 0.55,
    errorWeights: typicalErrors,
  },
  {
    name: 'claude-opus-4',
    share: 0.1,
    successRate: 0.95,
    price: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
    durationMedianS: 280,
    durationSigma: 0.55,
    promptTokensMedian: 110_000,
    outputTokensMedian: 9_000,
    cacheHitRate: 0.6,
    errorWeights: { ...typicalErrors, Timeout: 22 },
  },
  {
    name: 'gpt-4.1',
    share: 0.22,
    successRate: 0.88,
    price: { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 },
    durationMedianS: 120,
    durationSigma: 0.65,
    promptTokensMedian: 80_000,
    outputTokensMedian: 6_000,
    cacheHitRate: 0.42,
    errorWeights: { ...typicalErrors, ToolExecutionError: 32 },
  },
  {
    name: 'gemini-2.5-pro',
    share: 0.16,
    successRate: 0.87,
    price: { input: 1.25, output: 10, cacheRead: 0.31, cacheWrite: 0 },
    durationMedianS: 130,
    durationSigma: 0.7,
    promptTokensMedian: 100_000,
    outputTokensMedian: 6_500,
    cacheHitRate: 0.35,
    errorWeights: { ...typicalErrors, RateLimitError: 26 },
  },
  {
    name: 'claude-haiku-3.5',
    share: 0.12,
    successRate: 0.8,
    price: { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
    durationMedianS: 55,
    durationSigma: 0.6,
    promptTokensMedian: 60_000,
    outputTokensMedian: 4_000,
    cacheHitRate: 0.3,
    errorWeights: { ...typicalErrors, ContextWindowExceeded: 30, TestFailure: 45 },
  },
];

/** Something that went wrong on a given day, as a dashboard should reveal it. */
interface Incident {
  /** Days before the anchor; on a weekend, the Friday before (incidentDayStart). */
  readonly daysAgo: number;
  readonly fromHourUtc: number;
  readonly toHourUtc: number;
  readonly models: readonly string[];
  /** Added to the failure probability of the models concerned. */
  readonly extraFailure: number;
  readonly errorType: ErrorType;
  readonly errorMessage: string;
  /** Multiplies the share of the models concerned (a changed default model). */
  readonly shareFactor?: number;
}

export const demoIncidents: readonly Incident[] = [
  {
    // A bad agent deploy: a tool schema change breaks patch application.
    daysAgo: 9,
    fromHourUtc: 13,
    toHourUtc: 21,
    models: ['claude-sonnet-4', 'gpt-4.1', 'claude-haiku-3.5'],
    extraFailure: 0.38,
    errorType: 'ToolExecutionError',
    errorMessage:
      'tool `apply_patch` failed: unexpected patch schema version 3 (agent v2.14.0); rolled back in v2.14.1',
  },
  {
    // A provider-side quota cut.
    daysAgo: 17,
    fromHourUtc: 15,
    toHourUtc: 18,
    models: ['gemini-2.5-pro'],
    extraFailure: 0.55,
    errorType: 'RateLimitError',
    errorMessage:
      '429 RESOURCE_EXHAUSTED: quota exceeded for requests per minute per project; retry after 60s',
  },
  {
    // Someone switched the default model to the expensive one for a day: a cost anomaly.
    // 12 days ago (at most 14 after the weekend shift): the 30 days of a default
    // demo hold the 14 days of baseline its anomaly rule needs before it.
    daysAgo: 12,
    fromHourUtc: 0,
    toHourUtc: 24,
    models: ['claude-opus-4'],
    extraFailure: 0,
    shareFactor: 4,
    errorType: 'Timeout',
    errorMessage: '',
  },
  {
    daysAgo: 41,
    fromHourUtc: 9,
    toHourUtc: 14,
    models: ['claude-sonnet-4', 'claude-opus-4'],
    extraFailure: 0.3,
    errorType: 'Timeout',
    errorMessage: 'run exceeded the 30-minute limit: the CI runner pool was saturated (queue wait 24 min)',
  },
  {
    daysAgo: 66,
    fromHourUtc: 10,
    toHourUtc: 20,
    models: ['gpt-4.1'],
    extraFailure: 0.3,
    errorType: 'ContextWindowExceeded',
    errorMessage:
      'prompt of 1,089,331 tokens exceeds the 1,047,576-token context window (monorepo index regression)',
  },
];

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

/**
 * The UTC day an incident happens, `daysAgo` days before the anchor's day
 * or, when that falls on a weekend, the Friday before: deploys and model
 * switches happen on working days, and a weekend's low volume would hide a
 * cost incident from the anomaly rule, whose 14-day baseline spans two
 * weekends.
 */
export function incidentDayStart(incident: Pick<Incident, 'daysAgo'>, anchor: number): number {
  const day = Math.floor(anchor / dayMs) * dayMs - incident.daysAgo * dayMs;
  const weekday = new Date(day).getUTCDay();
  return day - (weekday === 6 ? 1 : weekday === 0 ? 2 : 0) * dayMs;
}

/** mulberry32: small, fast, good enough for demo data; same seed, same sequence. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function hashSeed(...parts: number[]): number {
  let hash = 2_166_136_261;
  for (const part of parts) {
    hash ^= part | 0;
    hash = Math.imul(hash, 16_777_619);
    hash ^= Math.floor(part / 4_294_967_296);
    hash = Math.imul(hash, 16_777_619);
  }
  return hash >>> 0;
}

function normal(random: () => number): number {
  // Box–Muller; 1 - random() keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function logNormal(random: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(random));
}

function poisson(random: () => number, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let count = 0;
  for (let product = random(); product > limit; product *= random()) count++;
  return count;
}

function pick<T extends string>(random: () => number, weights: Readonly<Record<T, number>>): T {
  const entries = Object.entries(weights) as [T, number][];
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let threshold = random() * total;
  for (const [value, weight] of entries) {
    threshold -= weight;
    if (threshold <= 0) return value;
  }
  return entries[entries.length - 1]![0];
}

/**
 * Runs expected to start in the UTC hour beginning at `hourStart`: more by day
 * (peaking mid-afternoon UTC, when Europe and the Americas overlap) and on
 * weekdays.
 */
function expectedRunsInHour(hourStart: number, runsPerWeekday: number): number {
  const date = new Date(hourStart);
  const hour = date.getUTCHours() + 0.5;
  const diurnal = 0.12 + 0.88 * Math.exp(-(((hour - 14.5) / 4.8) ** 2));
  const weekday = date.getUTCDay() === 0 || date.getUTCDay() === 6 ? 0.35 : 1;
  // The diurnal curve sums to about 10.4 over a day.
  return (runsPerWeekday / 10.4) * diurnal * weekday;
}

const errorMessages: Record<ErrorType, (random: () => number, model: string) => string> = {
  TestFailure: (random) => {
    const total = 40 + Math.floor(random() * 400);
    const failed = 1 + Math.floor(random() * 4);
    const suites = [
      'src/parser.test.ts',
      'test/api/routes.test.ts',
      'tests/test_billing.py',
      'pkg/cache/cache_test.go',
    ];
    return `${failed} of ${total} tests failed after the fix: ${suites[Math.floor(random() * suites.length)]} (expected 200, got 500)`;
  },
  ToolExecutionError: (random) => {
    const tools = [
      'run_shell: `npm ci` exited with code 1 (ERESOLVE)',
      'read_file: ENOENT src/index.ts',
      'apply_patch: hunk 2 of 3 did not apply',
      'run_shell: `pytest` killed by OOM',
    ];
    return `tool ${tools[Math.floor(random() * tools.length)]}`;
  },
  RateLimitError: (random, model) =>
    `429 Too Many Requests from the ${model} API; retry after ${5 + Math.floor(random() * 55)}s`,
  Timeout: () => 'run exceeded the 30-minute limit while waiting for the test suite',
  ContextWindowExceeded: (random) =>
    `prompt of ${(205_000 + Math.floor(random() * 80_000)).toLocaleString('en-US')} tokens exceeds the model's context window`,
};

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * The runs that start in one UTC hour, ids stable for that hour. `anchor`
 * places the incidents (days before it); `now` only makes the last two hours
 * healthy, so the alarm is quiet when the dashboard opens.
 */
function runsForHour(
  hourStart: number,
  options: { seed: number; runsPerWeekday: number; anchor: number; now: number },
): DemoRun[] {
  const hourRandom = mulberry32(hashSeed(options.seed, hourStart / hourMs));
  const dayStart = Math.floor(hourStart / dayMs) * dayMs;
  const hourOfDay = new Date(hourStart).getUTCHours();
  const incidents = demoIncidents.filter(
    (incident) =>
      incidentDayStart(incident, options.anchor) === dayStart &&
      hourOfDay >= incident.fromHourUtc &&
      hourOfDay < incident.toHourUtc,
  );
  const recent = options.now - hourStart < 2 * hourMs;

  const shares: Record<string, number> = {};
  for (const model of demoModels) {
    const factor = incidents.find((incident) => incident.models.includes(model.name))?.shareFactor ?? 1;
    shares[model.name] = model.share * factor;
  }
  const count = poisson(hourRandom, expectedRunsInHour(hourStart, options.runsPerWeekday));
  const runs: DemoRun[] = [];
  for (let index = 0; index < count; index++) {
    const random = mulberry32(hashSeed(options.seed, hourStart / hourMs, index + 1));
    const modelName = pick(random, shares);
    const model = demoModels.find((candidate) => candidate.name === modelName)!;
    const incident = incidents.find(
      (candidate) => candidate.models.includes(model.name) && candidate.extraFailure > 0,
    );
    const failureChance = 1 - model.successRate + (incident?.extraFailure ?? 0);
    const draw = random();
    // Half the failures of the last two hours are turned into successes, after
    // timing and tokens are drawn: a run's endTime never depends on `now`, so
    // a top-up can tell exactly which runs it sent before.
    const failed = draw < (recent ? failureChance / 2 : failureChance);
    const shapedBy: ErrorType | undefined =
      draw < failureChance
        ? incident && random() < incident.extraFailure / failureChance
          ? incident.errorType
          : pick(random, model.errorWeights)
        : undefined;
    const errorType = failed ? shapedBy : undefined;

    const startTime = hourStart + Math.floor(random() * hourMs);
    let durationS = logNormal(random, model.durationMedianS, model.durationSigma);
    let promptTokens = logNormal(random, model.promptTokensMedian, 0.7);
    let outputTokens = logNormal(random, model.outputTokensMedian, 0.6);
    if (shapedBy === 'RateLimitError') {
      durationS *= 0.25;
      promptTokens *= 0.3;
      outputTokens *= 0.2;
    } else if (shapedBy === 'Timeout') {
      durationS = 1_800 + random() * 5;
    } else if (shapedBy === 'ContextWindowExceeded') {
      promptTokens *= 2.5;
    }
    durationS = Math.max(4, Math.min(durationS, 1_805));
    const hitRate = Math.min(0.95, Math.max(0, model.cacheHitRate + 0.15 * normal(random)));
    const writeRate = 0.04 + 0.1 * random();
    const cacheReadTokens = Math.round(promptTokens * hitRate);
    const cacheWriteTokens = Math.round(promptTokens * writeRate);
    const inputTokens = Math.max(0, Math.round(promptTokens) - cacheReadTokens - cacheWriteTokens);
    const output = Math.round(outputTokens);
    const cost =
      (inputTokens * model.price.input +
        output * model.price.output +
        cacheReadTokens * model.price.cacheRead +
        cacheWriteTokens * model.price.cacheWrite) /
      1e6;
    const llmCalls = Math.max(1, Math.round(durationS / 9 + 3 * normal(random)));
    const run: DemoRun = {
      executionId: `demo-${hourStart / hourMs}-${String(index).padStart(3, '0')}`,
      startTime: new Date(startTime).toISOString(),
      endTime: new Date(startTime + Math.round(durationS * 1000)).toISOString(),
      status: failed ? 'failure' : 'success',
      model: model.name,
      inputTokens,
      outputTokens: output,
      cacheReadTokens,
      cacheWriteTokens,
      // Some runs come from an old agent version that does not report cost: ingest estimates
      // it for the models of config/model-prices.json, the others (gemini, haiku-3.5) stay unknown.
      costUsd: random() < 0.05 ? null : roundUsd(cost),
      llmCalls,
      toolCalls: Math.max(0, Math.round(llmCalls * (1.4 + 0.6 * random()))),
      filesModified: failed ? Math.floor(random() * 3) : 1 + Math.floor(logNormal(random, 2, 0.7)),
    };
    if (errorType) {
      run.errorType = errorType;
      run.errorMessage =
        incident?.errorType === errorType && incident.errorMessage
          ? incident.errorMessage
          : errorMessages[errorType](random, model.name);
    }
    runs.push(run);
  }
  return runs;
}

export interface DemoPlanOptions {
  readonly now: number;
  readonly days: number;
  readonly seed?: number;
  readonly runsPerWeekday?: number;
  /** Incidents are placed relative to this instant. @default now */
  readonly anchor?: number;
  /** Skip runs that had ended by this instant (seeded before). */
  readonly since?: number;
}

/**
 * Every demo run of the last `days` days that has ended by `now`, newest hour
 * first, so the default 7-day view fills before older history arrives.
 */
export function planDemoRuns(options: DemoPlanOptions): DemoRun[] {
  const since = options.since;
  const currentHour = Math.floor(options.now / hourMs) * hourMs;
  const oldestHour = currentHour - options.days * dayMs + hourMs;
  const firstHour = Math.max(
    oldestHour,
    options.since === undefined ? oldestHour : Math.floor(options.since / hourMs) * hourMs,
  );
  const runs: DemoRun[] = [];
  for (let hour = currentHour; hour >= firstHour; hour -= hourMs) {
    for (const run of runsForHour(hour, {
      seed: options.seed ?? 20_260_101,
      runsPerWeekday: options.runsPerWeekday ?? 800,
      anchor: options.anchor ?? options.now,
      now: options.now,
    })) {
      const end = Date.parse(run.endTime);
      if (end <= options.now && (since === undefined || end > since)) runs.push(run);
    }
  }
  return runs;
}

export interface SeedOptions extends Partial<DemoPlanOptions> {
  readonly baseUrl: string;
  readonly days: number;
  /** Remembers how far seeding got, so a persisted store is only topped up. */
  readonly markerFile?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  /** Requests in flight; each is up to 100 writes, so a few keep DynamoDB Local busy. @default 2 */
  readonly concurrency?: number;
  /**
   * How long one POST may take before it is abandoned and sent again (ingest
   * is idempotent). A batch normally takes well under a second; without a
   * limit one request that never answers would hold the seed, and the
   * banner, at its last figure for good. @default 15 s
   */
  readonly requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export interface SeedReport {
  readonly runs: number;
  readonly requests: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly failedRequests: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
}

interface SeedMarker {
  readonly seededUntil: number;
  readonly anchor: number;
}

function readMarker(file: string | undefined, days: number): SeedMarker | undefined {
  if (!file) return undefined;
  try {
    const marker = JSON.parse(readFileSync(file, 'utf8')) as {
      seededUntil?: string;
      anchor?: string;
      days?: number;
    };
    // More history asked for than was seeded: seed it all again (what exists comes back as duplicates).
    if (days > (marker.days ?? 0)) return undefined;
    const seededUntil = Date.parse(marker.seededUntil ?? '');
    const anchor = Date.parse(marker.anchor ?? '');
    return Number.isFinite(seededUntil) && Number.isFinite(anchor) ? { seededUntil, anchor } : undefined;
  } catch {
    return undefined;
  }
}

async function postBatch(
  url: string,
  runs: readonly DemoRun[],
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<{ accepted: number; duplicates: number; rejected: number }> {
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ executions: runs }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      // Only our own limit is retried; the caller's stop ends the seed.
      if (!timeout.aborted || signal?.aborted || attempt >= 5) throw error;
      continue;
    }
    if (response.status === 202 || response.status === 207 || response.status === 400) {
      const body = JSON.parse(text) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
      return {
        accepted: body.accepted ?? 0,
        duplicates: body.duplicates ?? 0,
        rejected: body.rejected?.length ?? 0,
      };
    }
    // 503 while starting, 429/5xx under load: wait and send the same batch again (ingest is idempotent).
    if (attempt >= 5) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    await new Promise((done) => setTimeout(done, 200 * attempt));
  }
}

/** Seeds demo runs through POST /api/executions in batches of 100, newest first. */
export async function seedDemoData(options: SeedOptions): Promise<SeedReport> {
  const startedAt = Date.now();
  const now = options.now ?? startedAt;
  const marker = readMarker(options.markerFile, options.days);
  const since = options.since ?? marker?.seededUntil;
  const anchor = options.anchor ?? marker?.anchor ?? now;
  const runs = planDemoRuns({
    now,
    days: options.days,
    anchor,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.runsPerWeekday !== undefined ? { runsPerWeekday: options.runsPerWeekday } : {}),
    ...(since !== undefined ? { since } : {}),
  });
  const batches: DemoRun[][] = [];
  for (let index = 0; index < runs.length; index += 100) batches.push(runs.slice(index, index + 100));

  const url = `${options.baseUrl}/api/executions`;
  const totals = { accepted: 0, duplicates: 0, rejected: 0, failedRequests: 0 };
  let done = 0;
  let next = 0;
  options.onProgress?.(0, runs.length);
  const worker = async () => {
    while (next < batches.length && !options.signal?.aborted) {
      const batch = batches[next++]!;
      try {
        const result = await postBatch(
          url,
          batch,
          options.signal,
          options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        );
        totals.accepted += result.accepted;
        totals.duplicates += result.duplicates;
        totals.rejected += result.rejected;
      } catch (error) {
        if (options.signal?.aborted) return;
        totals.failedRequests++;
        if (totals.failedRequests === 1) console.error(`demo seed: ${(error as Error).message}`);
      }
      done += batch.length;
      options.onProgress?.(done, runs.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, worker));
  if (options.signal?.aborted) throw new Error('demo seeding stopped');

  if (options.markerFile && totals.failedRequests === 0) {
    writeFileSync(
      options.markerFile,
      JSON.stringify(
        {
          seededUntil: new Date(now).toISOString(),
          anchor: new Date(anchor).toISOString(),
          days: options.days,
        },
        null,
        2,
      ),
    );
  }
  const seconds = (Date.now() - startedAt) / 1000;
  return {
    runs: runs.length,
    requests: batches.length,
    ...totals,
    seconds,
    runsPerSecond: seconds > 0 ? runs.length / seconds : 0,
  };
}
