import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { describeBucket, legendOnLastWhenIdle, nextBucket } from '../../../frontend/src/chart-a11y';

describe('nextBucket', () => {
  it('starts at the first bucket going right and at the last going left', () => {
    expect(nextBucket('ArrowRight', -1, 7)).toBe(0);
    expect(nextBucket('ArrowLeft', -1, 7)).toBe(6);
  });

  it('moves one bucket and stops at the ends', () => {
    expect(nextBucket('ArrowRight', 3, 7)).toBe(4);
    expect(nextBucket('ArrowRight', 6, 7)).toBe(6);
    expect(nextBucket('ArrowLeft', 0, 7)).toBe(0);
    expect(nextBucket('Home', 4, 7)).toBe(0);
    expect(nextBucket('End', 1, 7)).toBe(6);
  });

  it('ignores other keys and empty charts', () => {
    expect(nextBucket('a', 2, 7)).toBeNull();
    expect(nextBucket('ArrowRight', -1, 0)).toBeNull();
  });
});

/** The part of uPlot these functions read: series with their legend formatters, the data, the cursor. */
function fakePlot(idx: number | null = null) {
  const legend: (number | null)[] = [];
  const plot = {
    series: [
      { value: (_u: uPlot, seconds: number | null) => (seconds == null ? '—' : `day ${seconds}`) },
      {
        label: 'Failures',
        show: true,
        value: (_u: uPlot, v: number | null) => (v == null ? '—' : `${v} runs`),
      },
      { label: 'Hidden', show: false, value: () => 'x' },
    ],
    data: [
      [1, 2, 3],
      [10, null, 30],
      [0, 0, 0],
    ],
    cursor: { idx },
    setLegend: ({ idx: at }: { idx: number }) => legend.push(at),
  };
  return { plot: plot as unknown as uPlot, legend };
}

describe('describeBucket', () => {
  it("reads the bucket's time and each shown series through the legend's formatters", () => {
    const { plot } = fakePlot();
    expect(describeBucket(plot, 0)).toBe('day 1: Failures 10 runs. Bucket 1 of 3.');
    expect(describeBucket(plot, 1)).toBe('day 2: Failures —. Bucket 2 of 3.');
  });

  it('marks the bucket in progress', () => {
    expect(describeBucket(fakePlot().plot, 2, 2)).toBe('day 3 (so far): Failures 30 runs. Bucket 3 of 3.');
  });
});

describe('legendOnLastWhenIdle', () => {
  it('shows the last bucket in the legend while no bucket is pointed at', () => {
    const idle = fakePlot(null);
    legendOnLastWhenIdle(idle.plot);
    expect(idle.legend).toEqual([2]);
    const pointing = fakePlot(1);
    legendOnLastWhenIdle(pointing.plot);
    expect(pointing.legend).toEqual([]);
  });
});
