import { describe, expect, it } from 'vitest';
import { batchMetrics } from '../../../functions/domain/batch-metrics';
import { addDelta, emptyDelta, runDeltaOf } from '../../../functions/domain/deltas';
import { runImage } from '../aggregate/runs';

type Run = ReturnType<typeof runImage>;

function deltaOf(...runs: (Run | { run: Run; sign: 1 | -1 })[]) {
  const total = emptyDelta();
  // As for an hour item: each run also under its minute.
  for (const entry of runs)
    addDelta(total, runDeltaOf('sign' in entry ? entry : { run: entry, sign: 1 }, { minute: true }));
  return total;
}

const HOUR = Date.parse('2026-11-01T10:00:00Z');
const at = (time: string) => Date.parse(`2026-11-01T${time}Z`);
const { costNanos: _reported, ...withoutCost } = runImage();

const NOW = at('10:30:00');

describe('batchMetrics', () => {
  const documents = batchMetrics(
    [
      {
        model: 'a',
        hourStartMs: HOUR,
        delta: deltaOf(
          runImage({ model: 'a', startMs: at('10:05:10') }),
          runImage({ model: 'a', status: 'failure', costNanos: 5n, startMs: at('10:07:30') }),
        ),
      },
      {
        model: 'b',
        hourStartMs: HOUR,
        delta: deltaOf(runImage({ model: 'b', costNanos: 1_000_000_000n, startMs: at('10:05:50') })),
      },
      {
        model: 'c',
        hourStartMs: HOUR,
        delta: deltaOf({
          ...withoutCost,
          model: 'c',
          estimatedCostNanos: 2_000_000_000n,
          startMs: at('10:05:00'),
        }),
      },
    ],
    NOW,
  );
  const find = (timestampMs: number, model: string | undefined, name: string) =>
    documents
      .find((document) => document.timestampMs === timestampMs && document.dimensions?.Model === model)
      ?.samples.find((sample) => sample.name === name)?.value;

  it('files executions and failures at the minute the runs started, overall and per model', () => {
    expect(find(at('10:05:00'), undefined, 'Executions')).toBe(3);
    expect(find(at('10:05:00'), undefined, 'Failures')).toBe(0);
    expect(find(at('10:07:00'), undefined, 'Executions')).toBe(1);
    expect(find(at('10:07:00'), undefined, 'Failures')).toBe(1);
    expect(find(at('10:05:00'), 'a', 'Executions')).toBe(1);
    expect(find(at('10:07:00'), 'a', 'Failures')).toBe(1);
    expect(find(at('10:05:00'), 'b', 'Failures')).toBe(0);
    // Minutes without runs get no document.
    expect(documents.some((document) => document.timestampMs === at('10:06:00'))).toBe(false);
  });

  it('files cost (reported plus estimated) when it is emitted, overall and per model', () => {
    const cost = (model: string | undefined) =>
      documents.find(
        (document) => 'CostUsd' === document.samples[0]?.name && document.dimensions?.Model === model,
      );
    expect(cost(undefined)?.samples[0]?.value).toBe(3.012345005);
    expect(cost('c')?.samples[0]?.value).toBe(2);
    expect(cost('a')?.samples[0]?.value).toBe(0.012345005);
    expect(cost(undefined)?.timestampMs).toBeUndefined();
    // One document per timestamp and dimension set: 10:05 and 10:07 overall, four model minutes, four costs.
    expect(documents).toHaveLength(10);
  });

  it('files the runs it counted, and the failed ones, overall when it counts them: the late-failures alarm', () => {
    const overallCost = documents.find(
      (document) => document.samples[0]?.name === 'CostUsd' && !document.dimensions,
    );
    expect(overallCost?.timestampMs).toBeUndefined();
    expect(overallCost?.samples.slice(1)).toEqual([
      { name: 'ReportedExecutions', unit: 'Count', value: 4 },
      { name: 'ReportedFailures', unit: 'Count', value: 1 },
    ]);
    // Only the overall cost document carries them.
    const carrying = documents.filter((document) =>
      document.samples.some((sample) => sample.name === 'ReportedExecutions'),
    );
    expect(carrying).toEqual([overallCost]);
  });

  it('counts as reported the runs that started within 24 hours, not an older backlog, and nets corrections', () => {
    const reportedAt = (nowMs: number, delta: ReturnType<typeof deltaOf>) =>
      batchMetrics([{ model: 'a', hourStartMs: HOUR, delta }], nowMs)
        .find((document) => document.samples[0]?.name === 'CostUsd' && !document.dimensions)
        ?.samples.slice(1)
        .map((sample) => sample.value);
    const failed = runImage({ status: 'failure', startMs: at('10:20:00') });
    expect(reportedAt(at('10:20:00') + 24 * 3_600_000, deltaOf(failed))).toEqual([1, 1]);
    expect(reportedAt(at('10:20:00') + 24 * 3_600_000 + 60_000, deltaOf(failed))).toEqual([0, 0]);
    // A failure corrected to a success: no run more, one failure fewer.
    const succeeded = { ...failed, status: 'success' as const };
    expect(reportedAt(NOW, deltaOf({ run: failed, sign: -1 }, { run: succeeded, sign: 1 }))).toEqual([0, -1]);
  });

  it('moves a corrected run from its old minute to its new one, and leaves out a minute that cancels out', () => {
    const before = runImage({ startMs: at('10:20:00') });
    const after = { ...before, startMs: at('10:40:00') };
    const moved = batchMetrics(
      [{ model: 'a', hourStartMs: HOUR, delta: deltaOf({ run: before, sign: -1 }, { run: after, sign: 1 }) }],
      NOW,
    );
    const executionsAt = (time: string) =>
      moved.find((document) => document.timestampMs === at(time) && !document.dimensions)?.samples[0]?.value;
    expect(executionsAt('10:20:00')).toBe(-1);
    expect(executionsAt('10:40:00')).toBe(1);
    const cancelled = batchMetrics(
      [
        {
          model: 'a',
          hourStartMs: HOUR,
          delta: deltaOf({ run: before, sign: -1 }, { run: before, sign: 1 }),
        },
      ],
      NOW,
    );
    expect(cancelled).toEqual([]);
  });

  it('gives nothing when nothing was applied (a replayed batch)', () => {
    expect(batchMetrics([{ model: 'a', hourStartMs: HOUR, delta: emptyDelta() }], NOW)).toEqual([]);
  });

  it('leaves out the minutes CloudWatch would not take: 14 days old (less an hour in hand), over 2 hours ahead', () => {
    const run = runImage({ startMs: at('10:20:00') });
    const minutesAt = (nowMs: number) =>
      batchMetrics([{ model: 'a', hourStartMs: HOUR, delta: deltaOf(run) }], nowMs)
        .filter((document) => document.timestampMs !== undefined)
        .map((document) => document.timestampMs);
    const DAY = 86_400_000;
    expect(minutesAt(at('10:20:00') + 13 * DAY + 22 * 3_600_000)).toEqual([at('10:20:00'), at('10:20:00')]);
    expect(minutesAt(at('10:20:00') + 13 * DAY + 23 * 3_600_000 + 60_000)).toEqual([]);
    expect(minutesAt(at('10:20:00') - 2 * 3_600_000)).toHaveLength(2);
    expect(minutesAt(at('10:20:00') - 2 * 3_600_000 - 60_000)).toEqual([]);
    // The cost is still emitted (filed now): CloudWatch takes it.
    expect(
      batchMetrics([{ model: 'a', hourStartMs: HOUR, delta: deltaOf(run) }], at('10:20:00') + 20 * DAY),
    ).toHaveLength(2);
  });
});
