/**
 * A chart for keyboards and screen readers: the arrows move along the
 * buckets and each move is put into words (for an aria-live region); the
 * legend, when no bucket is pointed at, shows the last one instead of
 * "Time: —".
 */
import type uPlot from 'uplot';

/** The bucket `index` in words, from the legend's own formatters: "Nov 3: Failures 12, Anomaly yes". */
export function describeBucket(plot: uPlot, index: number, partial?: number | null): string {
  const parts: string[] = [];
  let time = '';
  plot.series.forEach((series, seriesIndex) => {
    const raw = plot.data[seriesIndex]?.[index] ?? null;
    const format = series.value as ((u: uPlot, v: number | null, s: number, i: number) => string) | undefined;
    const text = typeof format === 'function' ? format(plot, raw, seriesIndex, index) : String(raw ?? '—');
    if (seriesIndex === 0) time = text;
    else if (series.show !== false && series.label) parts.push(`${series.label} ${text}`);
  });
  const head = `${time}${index === partial ? ' (so far)' : ''}`;
  return `${head}: ${parts.join(', ')}. Bucket ${index + 1} of ${plot.data[0].length}.`;
}

/** The bucket index an arrow, Home or End moves to from `current` (-1: none yet), or null for other keys. */
export function nextBucket(key: string, current: number, count: number): number | null {
  if (count === 0) return null;
  if (key === 'ArrowRight') return current < 0 ? 0 : Math.min(count - 1, current + 1);
  if (key === 'ArrowLeft') return current < 0 ? count - 1 : Math.max(0, current - 1);
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return null;
}

/**
 * Keeps the legend on the last bucket while no bucket is pointed at (on
 * load, and when the pointer leaves the plot), so that it always reads
 * values. A uPlot setCursor hook; call it once after creating the plot too.
 */
export function legendOnLastWhenIdle(plot: uPlot): void {
  const count = plot.data[0]?.length ?? 0;
  if (plot.cursor.idx == null && count > 0) plot.setLegend({ idx: count - 1 });
}
