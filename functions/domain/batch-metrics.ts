/**
 * The CloudWatch metrics of one batch, built from the counter deltas that were
 * actually applied, so a replayed batch does not page anyone twice. Returns
 * plain data; functions/store/metrics-emitter.ts writes it as Embedded Metric
 * Format, with the stage dimension every custom metric carries.
 */
import { metricNames } from './alarm-rule';
import { countsNothing, type ItemDelta } from './deltas';
import { nanosToUsd } from './money';
import { totalCostNanos } from './rates';

interface MetricSample {
  readonly name: string;
  readonly unit: 'Count' | 'None';
  readonly value: number;
}

/**
 * One EMF document: samples that share one set of dimensions (besides the
 * service and stage ones every document has). EMF gives each metric name one
 * value per document, so overall and per-model totals are separate documents.
 */
export interface MetricDocument {
  readonly dimensions?: Readonly<Record<string, string>>;
  readonly samples: readonly MetricSample[];
}

interface Totals {
  executions: number;
  failures: number;
  costNanos: bigint;
}

/**
 * One document overall and one per model; empty when nothing was applied.
 * `applied` holds the deltas applied to hour items (day items repeat them).
 */
export function batchMetrics(applied: readonly { model: string; delta: ItemDelta }[]): MetricDocument[] {
  const byModel = new Map<string, Totals>();
  for (const { model, delta } of applied) {
    if (countsNothing(delta)) continue;
    const totals = byModel.get(model) ?? { executions: 0, failures: 0, costNanos: 0n };
    const { success, failure } = delta.byStatus;
    totals.executions += success.counters.executions + failure.counters.executions;
    totals.failures += failure.counters.failures;
    // Reported plus estimated, as the API's totalUsd: the cost alarm sees what runs without a cost spend too.
    totals.costNanos += totalCostNanos(success.counters) + totalCostNanos(failure.counters);
    byModel.set(model, totals);
  }
  if (byModel.size === 0) return [];
  const overall: Totals = { executions: 0, failures: 0, costNanos: 0n };
  for (const totals of byModel.values()) {
    overall.executions += totals.executions;
    overall.failures += totals.failures;
    overall.costNanos += totals.costNanos;
  }
  const samples = (totals: Totals): MetricSample[] => [
    { name: metricNames.executions, unit: 'Count', value: totals.executions },
    { name: metricNames.failures, unit: 'Count', value: totals.failures },
    { name: metricNames.costUsd, unit: 'None', value: nanosToUsd(totals.costNanos) },
  ];
  return [
    { samples: samples(overall) },
    ...[...byModel].map(([model, totals]) => ({
      dimensions: { [metricNames.modelDimension]: model },
      samples: samples(totals),
    })),
  ];
}
