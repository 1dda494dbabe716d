/**
 * Cost models. Pure: the figures go in, line items come out; prices and
 * assumptions live in bench/prices.ts.
 * - `monthlyCost`: the full model of `npm run bench -- cost` (bench/cost.ts
 *   measures its inputs): USD per month of a scenario, every line counted.
 * - `costPerMillionRuns`: the aggregate bench's quick per-million view from
 *   its own write figures (no storage, logs or dashboards).
 */
import { assumptions, deployment, morePrices, prices } from './prices';

export interface MeasuredUnits {
  /** Write units one run costs in the Executions table, its index included. */
  readonly executionsWruPerRun: number;
  /** Write units per run in the Aggregates table (UpdateItems of the stream handler). */
  readonly aggregatesWruPerRun: number;
  /** Billed seconds of one aggregate invocation of a full batch. */
  readonly aggregateBatchSeconds: number;
  /** Runs per stream batch (100 with batched ingest; ~1 for a trickle of single POSTs). */
  readonly runsPerStreamBatch: number;
  /** Runs per POST. */
  readonly runsPerIngestRequest: number;
}

export interface CostLine {
  readonly item: string;
  readonly usdPerMillionRuns: number;
}

const MILLION = 1_000_000;

/** Line items in USD per million runs; reads are 0 on the write path (condition failures return ALL_OLD). */
export function costPerMillionRuns(units: MeasuredUnits): CostLine[] {
  const ingestRequests = MILLION / units.runsPerIngestRequest;
  const aggregateInvocations = MILLION / units.runsPerStreamBatch;
  const lambda = (invocations: number, seconds: number, memoryGb: number) =>
    (invocations * prices.lambdaPerMillionRequests) / MILLION +
    invocations * seconds * memoryGb * prices.lambdaArmPerGbSecond;
  return [
    {
      item: 'HTTP API requests',
      usdPerMillionRuns: (ingestRequests * prices.httpApiPerMillionRequests) / MILLION,
    },
    {
      item: 'ingest Lambda',
      usdPerMillionRuns: lambda(
        ingestRequests,
        assumptions.ingestBatchSeconds * (units.runsPerIngestRequest / 100),
        assumptions.ingestMemoryGb,
      ),
    },
    {
      item: 'Executions writes',
      usdPerMillionRuns: units.executionsWruPerRun * prices.dynamoWritePerMillionWru,
    },
    {
      item: 'aggregate Lambda',
      usdPerMillionRuns: lambda(
        aggregateInvocations,
        units.aggregateBatchSeconds,
        assumptions.aggregateMemoryGb,
      ),
    },
    {
      item: 'Aggregates writes',
      usdPerMillionRuns: units.aggregatesWruPerRun * prices.dynamoWritePerMillionWru,
    },
  ];
}

export function totalOf(lines: readonly CostLine[]): number {
  return lines.reduce((sum, line) => sum + line.usdPerMillionRuns, 0);
}

/** Figures `npm run bench -- cost` measures with the real handlers on DynamoDB Local (bench/cost.ts). */
export interface Measured {
  /** Executions item size by DynamoDB's rules (bytes, mean): one write to the table, one to the index. */
  readonly executionItemBytes: number;
  /** PutItem calls per run posted (re-sends included) and the share of them that wrote. */
  readonly putAttemptsPerRun: number;
  readonly putStoredShare: number;
  /** Aggregate write units per run, by runs per stream batch. */
  readonly aggregateWruPerRun: (runsPerBatch: number) => number;
  /** Billed seconds of one aggregate invocation, by runs per stream batch. */
  readonly aggregateSecondsPerBatch: (runsPerBatch: number) => number;
  /** Billed seconds of one ingest request, by runs per POST. */
  readonly ingestSecondsPerRequest: (runsPerPost: number) => number;
  /** Log bytes the handlers write per invocation (Lambda's own lines excluded). */
  readonly ingestLogBytesPerRequest: number;
  readonly aggregateLogBytesPerBatch: number;
  /** Bytes of the EMF log lines (the custom metrics) one stream batch writes, by runs per stream batch. */
  readonly metricEmfBytesPerBatch: (runsPerBatch: number) => number;
  /** Aggregate bytes stored per run (hour and day items, all models), at the scenario's density. */
  readonly aggregateBytesPerRun: (runsPerMonth: number) => number;
  /** Read units per aggregate item read, and billed seconds per query request. */
  readonly readUnitsPerItemRead: number;
  readonly querySecondsPerRequest: number;
  readonly queryLogBytesPerRequest: number;
}

export interface Scenario {
  readonly runsPerMonth: number;
  readonly runsPerPost: number;
  /** Dashboards open in live mode all month. */
  readonly liveDashboards: number;
}

export interface MonthLine {
  readonly item: string;
  readonly usdPerMonth: number;
}

/**
 * Runs per stream batch: a POST's runs reach the stream together and split
 * over the shards; runs of separate POSTs share a batch when they arrive
 * within the batching window on the same shard.
 */
export function runsPerStreamBatch(scenario: Scenario, shards: number, windowSeconds: number): number {
  const runsPerSecond = scenario.runsPerMonth / (deployment.daysPerMonth * 86_400);
  const perPost = scenario.runsPerPost / shards;
  return Math.min(deployment.streamBatchSize, Math.max(1, perPost, (runsPerSecond / shards) * windowSeconds));
}

/** USD per month of one scenario, line by line. */
export function monthlyCost(scenario: Scenario, measured: Measured): MonthLine[] {
  const runs = scenario.runsPerMonth;
  const posts = runs / scenario.runsPerPost;
  const perBatch = runsPerStreamBatch(scenario, deployment.streamShards, deployment.streamWindowSeconds);
  const batches = runs / perBatch;
  const wruPerItem = Math.ceil(measured.executionItemBytes / 1024);
  const lambda = (invocations: number, seconds: number, memoryGb: number) =>
    (invocations * prices.lambdaPerMillionRequests) / MILLION +
    invocations * Math.ceil(seconds * 1000) * 0.001 * memoryGb * prices.lambdaArmPerGbSecond;
  const gb = (bytes: number) => bytes / 1024 ** 3;
  // Raw runs stay rawRetentionDays: at a steady rate that many days of runs, in the table and the index.
  const rawStoredGb =
    gb(
      runs *
        (deployment.rawRetentionDays / deployment.daysPerMonth) *
        (measured.executionItemBytes + deployment.itemOverheadBytes),
    ) * 2;
  // Aggregates are kept forever: the table after one year.
  const aggregateGbAfterAYear = gb(runs * 12 * measured.aggregateBytesPerRun(runs));
  const tableGb = rawStoredGb / 2 + aggregateGbAfterAYear;
  const logBytes =
    posts * (measured.ingestLogBytesPerRequest + deployment.platformLogBytesPerInvocation) +
    batches * (measured.aggregateLogBytesPerBatch + deployment.platformLogBytesPerInvocation);
  const refreshes =
    scenario.liveDashboards * ((deployment.daysPerMonth * 86_400) / deployment.dashboardRefreshSeconds);
  const dashboardRequests = refreshes * deployment.dashboardRequestsPerRefresh;
  return [
    { item: 'HTTP API, ingest requests', usdPerMonth: (posts * prices.httpApiPerMillionRequests) / MILLION },
    {
      item: 'ingest Lambda',
      usdPerMonth: lambda(
        posts,
        measured.ingestSecondsPerRequest(scenario.runsPerPost),
        deployment.ingestMemoryGb,
      ),
    },
    {
      item: `Executions writes (${wruPerItem} WRU × attempts)`,
      usdPerMonth:
        (runs * measured.putAttemptsPerRun * wruPerItem * prices.dynamoWritePerMillionWru) / MILLION,
    },
    {
      item: 'byStartTime index writes (16 shards: same count)',
      usdPerMonth:
        (runs *
          measured.putAttemptsPerRun *
          measured.putStoredShare *
          wruPerItem *
          prices.dynamoWritePerMillionWru) /
        MILLION,
    },
    {
      item: 'aggregate Lambda',
      usdPerMonth: lambda(batches, measured.aggregateSecondsPerBatch(perBatch), deployment.aggregateMemoryGb),
    },
    {
      item: 'Aggregates writes',
      usdPerMonth: (runs * measured.aggregateWruPerRun(perBatch) * prices.dynamoWritePerMillionWru) / MILLION,
    },
    {
      item: 'metrics: EMF log lines (one set per batch)',
      usdPerMonth: gb(batches * measured.metricEmfBytesPerBatch(perBatch)) * morePrices.logsIngestPerGb,
    },
    {
      item: 'CloudWatch Logs (handlers + Lambda lines)',
      usdPerMonth: gb(logBytes) * morePrices.logsIngestPerGb,
    },
    {
      item: 'storage: raw runs + index (90 days), aggregates (1 year)',
      usdPerMonth: (rawStoredGb + aggregateGbAfterAYear) * morePrices.dynamoStoragePerGbMonth,
    },
    { item: 'PITR (both tables)', usdPerMonth: tableGb * morePrices.pitrPerGbMonth },
    {
      item: `live dashboards (${scenario.liveDashboards}: 7 requests every 30 s)`,
      usdPerMonth:
        (dashboardRequests * (prices.httpApiPerMillionRequests + morePrices.cloudfrontPerMillionHttps)) /
          MILLION +
        lambda(dashboardRequests, measured.querySecondsPerRequest, deployment.queryMemoryGb) +
        (refreshes *
          deployment.dashboardItemsPerLoad *
          measured.readUnitsPerItemRead *
          prices.dynamoReadPerMillionRru) /
          MILLION +
        (refreshes * morePrices.cloudwatchApiPerThousand) / 1_000 + // DescribeAlarms of /api/alarm
        gb(
          dashboardRequests * (measured.queryLogBytesPerRequest + deployment.platformLogBytesPerInvocation),
        ) *
          morePrices.logsIngestPerGb,
    },
  ];
}
