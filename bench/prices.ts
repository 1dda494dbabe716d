/**
 * Prices and assumptions of the cost model (bench/cost-model.ts), in one place.
 * On-demand, us-east-1, list prices without free tiers; change them here.
 */
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
  /** CloudWatch: USD per 1,000 PutMetricData requests. */
  cloudwatchPerThousandPutMetricData: 0.01,
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
