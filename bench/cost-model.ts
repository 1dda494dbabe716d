/**
 * Cost per million runs from measured units. Pure: the figures go in, a table
 * of line items comes out; prices and assumptions live in bench/prices.ts.
 */
import { assumptions, prices } from './prices';

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
    {
      item: 'PutMetricData',
      usdPerMillionRuns: (aggregateInvocations * prices.cloudwatchPerThousandPutMetricData) / 1_000,
    },
  ];
}

export function totalOf(lines: readonly CostLine[]): number {
  return lines.reduce((sum, line) => sum + line.usdPerMillionRuns, 0);
}
