import { describe, expect, it } from 'vitest';
import { batchMetrics } from '../../../functions/domain/batch-metrics';
import { addDelta, emptyDelta, runDeltaOf } from '../../../functions/domain/deltas';
import { runImage } from '../aggregate/runs';

function deltaOf(...runs: ReturnType<typeof runImage>[]) {
  const total = emptyDelta();
  for (const run of runs) addDelta(total, runDeltaOf({ run, sign: 1 }));
  return total;
}

const { costNanos: _reported, ...withoutCost } = runImage();

describe('batchMetrics', () => {
  it('gives executions, failures and cost (reported plus estimated) overall and per model, one document each', () => {
    const documents = batchMetrics([
      {
        model: 'a',
        delta: deltaOf(runImage({ model: 'a' }), runImage({ model: 'a', status: 'failure', costNanos: 5n })),
      },
      { model: 'b', delta: deltaOf(runImage({ model: 'b', costNanos: 1_000_000_000n })) },
      { model: 'c', delta: deltaOf({ ...withoutCost, model: 'c', estimatedCostNanos: 2_000_000_000n }) },
    ]);
    const value = (name: string, model?: string) =>
      documents
        .find((document) => document.dimensions?.Model === model)
        ?.samples.find((sample) => sample.name === name)?.value;
    expect(documents.map((document) => document.dimensions)).toEqual([
      undefined,
      { Model: 'a' },
      { Model: 'b' },
      { Model: 'c' },
    ]);
    expect(value('Executions')).toBe(4);
    expect(value('Failures')).toBe(1);
    expect(value('CostUsd')).toBe(3.012345005);
    expect(value('CostUsd', 'c')).toBe(2);
    expect(value('Executions', 'a')).toBe(2);
    expect(value('Failures', 'b')).toBe(0);
    expect(documents.flatMap((document) => document.samples)).toHaveLength(12);
  });

  it('gives nothing when nothing was applied (a replayed batch)', () => {
    expect(batchMetrics([{ model: 'a', delta: emptyDelta() }])).toEqual([]);
  });
});
