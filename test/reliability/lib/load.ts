/**
 * Concurrency and latency bookkeeping for the load suites.
 */

/**
 * Runs `task(0)`, `task(1)`, … `task(count - 1)` with at most `concurrency`
 * in flight. Rejects with the first error once the tasks in flight settle.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined) {
      const index = next++;
      if (index >= count) return;
      try {
        await task(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure;
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100); null when empty. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

export interface PhaseFigures {
  readonly phase: string;
  readonly requests: number;
  /** Runs carried by the requests, re-sent ones included. */
  readonly runsSent: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly max: number | null;
  };
  readonly statuses: Readonly<Record<string, number>>;
}

/** Collects the latencies and statuses of one phase of a load run. */
export class PhaseRecorder {
  private readonly latencies: number[] = [];
  private readonly statuses = new Map<string, number>();
  private readonly started = performance.now();
  private runs = 0;
  private reportedTenths = 0;

  /** With `expectedRuns`, prints a progress line at every tenth of it (long runs only need one). */
  constructor(
    readonly phase: string,
    private readonly expectedRuns?: number,
  ) {}

  record(status: number | string, latencyMs: number, runs: number): void {
    this.latencies.push(latencyMs);
    this.statuses.set(String(status), (this.statuses.get(String(status)) ?? 0) + 1);
    this.runs += runs;
    if (this.expectedRuns === undefined) return;
    const tenths = Math.floor((this.runs / this.expectedRuns) * 10);
    if (tenths > this.reportedTenths) {
      this.reportedTenths = tenths;
      const seconds = (performance.now() - this.started) / 1000;
      console.log(
        `[${this.phase}] ${this.runs} runs in ${seconds.toFixed(0)} s (${Math.round(this.runs / seconds)} runs/s)`,
      );
    }
  }

  count(status: number | string): number {
    return this.statuses.get(String(status)) ?? 0;
  }

  /** Statuses ≥ 500 and connection errors. */
  serverErrors(): number {
    return [...this.statuses]
      .filter(([status]) => !/^[1-4]\d\d$/.test(status))
      .reduce((sum, [, n]) => sum + n, 0);
  }

  figures(): PhaseFigures {
    const seconds = (performance.now() - this.started) / 1000;
    const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
    return {
      phase: this.phase,
      requests: this.latencies.length,
      runsSent: this.runs,
      seconds: Math.round(seconds * 100) / 100,
      runsPerSecond: Math.round(this.runs / seconds),
      requestsPerSecond: Math.round(this.latencies.length / seconds),
      latencyMs: {
        p50: round(percentile(this.latencies, 50)),
        p99: round(percentile(this.latencies, 99)),
        max: round(percentile(this.latencies, 100)),
      },
      statuses: Object.fromEntries([...this.statuses].sort()),
    };
  }
}
