/**
 * Prices and assumptions of the cost model (bench/cost-model.ts), in one place.
 * On-demand, us-east-1, list prices without free tiers; change them here.
 */
import { STREAM_BATCH_SIZE } from '../functions/domain/stream-batch';

export const prices = {
  /** DynamoDB on-demand: USD per million write request units (1 KB each). */
  dynamoWritePerMillionWru: 0.625,
  /** DynamoDB on-demand: USD per million read request units (4 KB strongly consistent, 2 eventually). */
  dynamoReadPerMillionRru: 0.125,
  /** Lambda: USD per million requests. */
  lambdaPerMillionRequests: 0.2,
  /** Lambda arm64: USD per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** API Gateway HTTP API: USD per million requests (first 300 million a month). */
  httpApiPerMillionRequests: 1.0,
  /** CloudWatch: USD per custom metric per month (first 10,000 metrics); a fixed cost, not per run. */
  cloudwatchPerMetricMonth: 0.3,
} as const;

export const assumptions = {
  /** Runs per POST /api/executions with batched ingest (the API maximum). */
  runsPerIngestRequest: 100,
  /** Memory of the ingest and aggregate functions (lib/constructs). */
  ingestMemoryGb: 0.5,
  aggregateMemoryGb: 0.5,
  /**
   * Billed duration of one ingest invocation of 100 runs (validate, 100
   * conditional PutItems, 25 at a time); an estimate, not measured here.
   */
  ingestBatchSeconds: 0.25,
  /** Runs per stream batch at steady load with batched ingest (the mapping's batch size). */
  runsPerStreamBatch: 100,
} as const;

/**
 * Prices of the full cost model (bench/cost.ts, `npm run bench -- cost`):
 * us-east-1 list prices, on-demand, no free tier, as published after
 * DynamoDB's November 2024 on-demand price cut (the latest this offline
 * repository could check; re-check https://aws.amazon.com/pricing before
 * quoting them).
 */
export const PRICE_DATE = 'us-east-1 list prices as of 2025 (DynamoDB after its Nov 2024 cut)';

export const morePrices = {
  /** DynamoDB standard table class: USD per GB-month stored (base table and each GSI). */
  dynamoStoragePerGbMonth: 0.25,
  /** Continuous backups (PITR): USD per GB-month of table size. */
  pitrPerGbMonth: 0.2,
  /** CloudWatch Logs: USD per GB ingested (standard class) and per GB-month stored. */
  logsIngestPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
  /** CloudFront: USD per million HTTPS requests (North America). */
  cloudfrontPerMillionHttps: 1.0,
  /** CloudWatch GetMetricData/DescribeAlarms style API calls: USD per 1,000. */
  cloudwatchApiPerThousand: 0.01,
} as const;

/** What the deployed stack is (lib/constructs), and how DynamoDB bills. */
export const deployment = {
  /** Function memory in GB: ingest (HouseFunction default), aggregate and query (lib/constructs). */
  ingestMemoryGb: 0.25,
  aggregateMemoryGb: 0.5,
  queryMemoryGb: 0.5,
  /** Stream shards of the Executions table (a new on-demand table has ~4 partitions). */
  streamShards: 4,
  /** The event source's MaximumBatchingWindow (s) and BatchSize. */
  streamWindowSeconds: 1,
  streamBatchSize: STREAM_BATCH_SIZE,
  /** Days a raw run is kept (rawRetentionDays). */
  rawRetentionDays: 90,
  /** DynamoDB per-item storage overhead (bytes), base table and GSI alike. */
  itemOverheadBytes: 100,
  /** Lambda's START, END and REPORT lines per invocation (bytes): their usual size, an estimate. */
  platformLogBytesPerInvocation: 330,
  /** A live dashboard re-reads its 7 requests every 30 s (frontend/src/app.tsx LIVE_INTERVAL_MS). */
  dashboardRefreshSeconds: 30,
  dashboardRequestsPerRefresh: 7,
  /** Items a 30-day dashboard load reads with every (hour, model) item present: docs/QUERY.md, 100 k runs. */
  dashboardItemsPerLoad: 1_034,
  /** Days in the billing month. */
  daysPerMonth: 30,
} as const;
