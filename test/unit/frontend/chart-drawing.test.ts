/**
 * How the charts draw, read from the uPlot options the chart table builds:
 * lone values as points, whole-number count ticks, 24-hour time axes, and
 * axes as wide as their labels (issue 15's polish items, which only the
 * screenshots showed before).
 */
import uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { type ChartOptions, chartModel, chartOptions } from '../../../frontend/src/chart-kit';
import { scatterOptions } from '../../../frontend/src/scatter';
import { palettes } from '../../../frontend/src/theme';
import { weekOptions } from '../../../frontend/src/week-over-week';
import { bucket, timeCharts } from './fixtures';

type Kind = keyof typeof timeCharts;
const kinds = Object.keys(timeCharts) as Kind[];

function optionsOf(kind: Kind): ChartOptions {
  const buckets = [bucket('2026-11-01T00:00:00Z'), bucket('2026-11-02T00:00:00Z')];
  const source = { current: chartModel(timeCharts[kind], buckets, { granularity: 'day', tz: 'UTC' }) };
  return chartOptions(timeCharts[kind], palettes.light, 'UTC', 'day', source);
}

/** An axis size computed from its labels (uPlot also takes a plain number). */
type SizeOf = Extract<uPlot.Axis.Size, (...args: never[]) => number>;

/** The uPlot instance an axis size function sees: a canvas that measures 7 px per character. */
function measuringChart(axes: uPlot.Axis[]): uPlot {
  const ctx = {
    font: '',
    save() {},
    restore() {},
    measureText: (text: string) => ({ width: text.length * 7 }),
  };
  return { ctx, axes } as unknown as uPlot;
}

describe('how the charts draw', () => {
  it('draws a value between two gaps as a point, and only such values, on every line', () => {
    const data = [1, null, 3, null, null, 5, 6, null, 8];
    let lines = 0;
    for (const kind of kinds) {
      const options = optionsOf(kind);
      for (const [index, series] of options.series.entries()) {
        const filter = (series.points as { filter?: uPlot.Series.Points.Filter } | undefined)?.filter;
        if (typeof filter !== 'function') continue;
        lines++;
        const chart = {
          data: options.series.map((_, column) => (column === index ? data : [])),
        } as unknown as uPlot;
        expect(filter(chart, index, true, null), `${kind} ${series.label}`).toEqual([0, 2, 8]);
      }
    }
    // Success rate, duration (four lines), cost per run, cache hit rate, failure rate at the least.
    expect(lines).toBeGreaterThanOrEqual(6);
  });

  it('ticks counts in whole numbers, down to a step of 1, and durations in whole seconds', () => {
    for (const kind of ['executions', 'tokens', 'failures'] as const) {
      const steps = optionsOf(kind).axes?.[1]?.incrs;
      expect(Array.isArray(steps), kind).toBe(true);
      expect((steps as number[])[0], kind).toBe(1);
      for (const step of steps as number[])
        expect(Number.isInteger(step), `${kind}: step ${step}`).toBe(true);
    }
    const durationSteps = optionsOf('duration').axes?.[1]?.incrs as number[];
    expect(durationSteps[0]).toBe(1_000);
    for (const step of durationSteps) expect(step % 1_000, `duration: step ${step} ms`).toBe(0);
  });

  it('labels every time axis on a 24-hour clock, as the tables do', () => {
    const afternoon = new Date(2026, 10, 3, 15, 5);
    for (const kind of kinds) {
      const values = optionsOf(kind).axes?.[0]?.values;
      expect(Array.isArray(values), kind).toBe(true);
      for (const row of values as (string | number | null)[][]) {
        const templates = row.filter((cell): cell is string => typeof cell === 'string');
        for (const template of templates) expect(template, kind).not.toMatch(/\{h\}|\{aa\}|\{AA\}/);
        const [step, format] = row as [number, string];
        if (step < 86_400) expect(uPlot.fmtDate(format)(afternoon), kind).toBe('15:05');
      }
    }
  });

  it('ticks a day chart at midnights only and an hour chart at whole hours', () => {
    const buckets = [bucket('2026-11-01T00:00:00Z'), bucket('2026-11-02T00:00:00Z')];
    for (const granularity of ['day', 'hour'] as const) {
      const unit = granularity === 'day' ? 86_400 : 3600;
      for (const kind of kinds) {
        const source = { current: chartModel(timeCharts[kind], buckets, { granularity, tz: 'UTC' }) };
        const steps = chartOptions(timeCharts[kind], palettes.light, 'UTC', granularity, source).axes?.[0]
          ?.incrs;
        expect(Array.isArray(steps), `${kind} ${granularity}`).toBe(true);
        const numbers = steps as number[];
        expect(numbers[0], `${kind} ${granularity}`).toBe(unit);
        for (const step of numbers) expect(step % unit, `${kind} ${granularity} step ${step}`).toBe(0);
      }
    }
    const weekAxis = weekOptions(palettes.light, 'UTC').axes?.[0]?.incrs as number[];
    expect(weekAxis[0]).toBe(86_400);
  });

  it('makes a value axis as wide as its widest tick label plus its title', () => {
    const yAxis = optionsOf('cost').axes?.[1];
    const size = yAxis?.size;
    expect(typeof size).toBe('function');
    const sizeOf = (labels: string[], title?: string) =>
      (size as SizeOf)(measuringChart([{}, { label: title }]), labels, 1, 0);
    expect(sizeOf(['$0.05', '$0.10'])).toBe(5 * 7 + 18);
    expect(sizeOf(['$0.0125', '$1,200.00'], 'USD')).toBe(9 * 7 + 18 + 20);
  });

  it('keeps the scatter’s axis titles clear of its tick labels', () => {
    const [xAxis, yAxis] = scatterOptions(palettes.light).axes ?? [];
    expect(xAxis?.label).toBe('LLM calls per run');
    const size = yAxis?.size as SizeOf;
    const chart = measuringChart([xAxis ?? {}, yAxis ?? {}]);
    // The title (20 px) sits beside the widest label, whatever its length.
    expect(size(chart, ['$0.0125'], 1, 0)).toBe(7 * 7 + 18 + 20);
    expect(size(chart, ['$12.50', '$125.00'], 1, 0)).toBe(7 * 7 + 18 + 20);
    expect(size(chart, ['$1'], 1, 0)).toBe(2 * 7 + 18 + 20);
  });
});
