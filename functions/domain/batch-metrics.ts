/**
 * The CloudWatch metrics of one batch, built from the counter deltas that were
 * actually applied, so a replayed batch does not page anyone twice.
 * Returns the PutMetricData input as plain data (no SDK import here).
 */
import { counterAttribute } from '../store/aggregate-keys';
import { metricNames } from './alarm-rule';
import type { AttributeDeltas } from './deltas';
import { nanosToUsd } from './money';

export interface MetricDatum {
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
  Timestamp: Date;
  Value: number;
  Unit: 'Count' | 'None';
}

export interface MetricBatch {
  Namespace: string;
  MetricData: MetricDatum[];
}

interface Totals {
  executions: number;
  failures: number;
  costNanos: bigint;
}

const amount = (deltas: AttributeDeltas, attribute: string) => deltas.get(attribute) ?? 0;

/**
 * One datum per metric overall and per model; null when nothing was applied.
 * `applied` holds the deltas applied to hour items (day items repeat them).
 */
export function batchMetrics(
  applied: readonly { model: string; deltas: AttributeDeltas }[],
  namespace: string,
  timestamp: Date,
): MetricBatch | null {
  const byModel = new Map<string, Totals>();
  for (const { model, deltas } of applied) {
    if (deltas.size === 0) continue;
    const totals = byModel.get(model) ?? { executions: 0, failures: 0, costNanos: 0n };
    const failures = Number(amount(deltas, counterAttribute('failure', 'executions')));
    totals.executions += Number(amount(deltas, counterAttribute('success', 'executions'))) + failures;
    totals.failures += failures;
    totals.costNanos +=
      BigInt(amount(deltas, counterAttribute('success', 'costNanos'))) +
      BigInt(amount(deltas, counterAttribute('failure', 'costNanos')));
    byModel.set(model, totals);
  }
  if (byModel.size === 0) return null;
  const overall: Totals = { executions: 0, failures: 0, costNanos: 0n };
  for (const totals of byModel.values()) {
    overall.executions += totals.executions;
    overall.failures += totals.failures;
    overall.costNanos += totals.costNanos;
  }
  const data = (totals: Totals, dimensions?: { Name: string; Value: string }[]): MetricDatum[] => [
    {
      MetricName: metricNames.executions,
      Dimensions: dimensions,
      Timestamp: timestamp,
      Value: totals.executions,
      Unit: 'Count',
    },
    {
      MetricName: metricNames.failures,
      Dimensions: dimensions,
      Timestamp: timestamp,
      Value: totals.failures,
      Unit: 'Count',
    },
    {
      MetricName: metricNames.costUsd,
      Dimensions: dimensions,
      Timestamp: timestamp,
      Value: nanosToUsd(totals.costNanos),
      Unit: 'None',
    },
  ];
  const metricData = [
    ...data(overall),
    ...[...byModel].flatMap(([model, totals]) =>
      data(totals, [{ Name: metricNames.modelDimension, Value: model }]),
    ),
  ];
  return { Namespace: namespace, MetricData: metricData };
}
