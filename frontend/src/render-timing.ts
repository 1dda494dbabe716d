/**
 * The timing marks `npm run bench` reads, kept out of the chart component:
 * each chart render is timed alone (performance.measure 'chart-render'),
 * rather than together with whatever else shares its microtask, and the
 * first one sets the 'first-chart' mark.
 */

/** Runs one synchronous render of a chart, records how long it took and returns what the render returned. */
export function timedRender<T>(title: string, render: () => T): T {
  const start = performance.now();
  const rendered = render();
  const end = performance.now();
  performance.measure('chart-render', { start, end, detail: { chart: title } });
  if (performance.getEntriesByName('first-chart', 'mark').length === 0) performance.mark('first-chart');
  return rendered;
}
