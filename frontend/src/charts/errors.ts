/** The chart table, Errors part (see overview.ts). */
import { ANOMALY_RULE, type ChartDef, countAxis, peakText, sum, withData } from '../chart-kit';
import { formatCount } from '../format';

export const failuresChart: ChartDef = {
  title: 'Failure trend',
  measure: 'Failed runs; success-rate anomalies marked',
  hint: `A marker flags a bucket whose success rate lies ${ANOMALY_RULE}; volume, cost and duration anomalies are marked on their own charts.`,
  series: [
    {
      label: 'Failures',
      value: (b) => b.failures,
      format: formatCount,
      look: 'bar',
      color: 'failure',
      fillAlpha: 'aa',
      anomaly: 'successRate',
    },
  ],
  axes: (palette) => [countAxis(palette)],
  csv: {
    header: ['bucket_start', 'failures', 'executions', 'anomalies'],
    row: (b) => [b.start, b.failures, b.executions, b.anomalies.join(' ')],
  },
  summary: ({ column, label }) => {
    const failures = column((b) => b.failures);
    return withData(
      failures,
      () => `${formatCount(sum(failures))} failures; ${peakText(failures, label, formatCount)}.`,
      sum(column((b) => b.executions)) > 0,
    );
  },
};
