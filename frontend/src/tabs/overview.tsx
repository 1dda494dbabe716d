/** Overview tab: is the agent healthy? */

import type { Summary } from '../api-types';
import { overviewCharts } from '../charts/overview';
import { EmptyState, KpiGrid, kpi } from '../components';
import {
  estimatedPart,
  formatCount,
  formatDuration,
  formatPercent,
  formatUsd,
  formatUsdOrNA,
} from '../format';
import { emptySuggestion } from '../literacy';
import { useApi } from '../use-api';
import { WeekOverWeekCard } from './lazy-tabs';
import { Loaded, type TabProps, TimeChartCard, useTimeseries } from './shared';

export function OverviewTab(props: TabProps) {
  const series = useTimeseries(props);
  const summary = useApi<Summary>(`/api/summary?${props.query}`, props.generation, props.waitForCharts);
  if (summary.data && summary.data.executions === 0)
    return <EmptyState suggestion={emptySuggestion(props.view)} />;
  return (
    <>
      <Loaded source={summary} height={96} render={(s) => <OverviewKpis summary={s} />} />
      <div class="grid">
        <TimeChartCard {...props} series={series} chart={overviewCharts.executions} />
        <TimeChartCard {...props} series={series} chart={overviewCharts.successRate} />
        <TimeChartCard {...props} series={series} chart={overviewCharts.cost} />
        <TimeChartCard {...props} series={series} chart={overviewCharts.tokens} />
        <TimeChartCard {...props} series={series} chart={overviewCharts.duration} />
        <WeekOverWeekCard {...props} />
      </div>
    </>
  );
}

function OverviewKpis({ summary: s }: { summary: Summary }) {
  const p = s.previous;
  const duration = s.durationMs;
  return (
    <KpiGrid
      summary={s}
      kpis={[
        kpi('Executions', formatCount, s.executions, p.executions, 'relative', 'neither'),
        kpi('Success rate', formatPercent, s.successRate, p.successRate, 'points', 'up'),
        kpi(
          'Total cost',
          formatUsd,
          s.cost.totalUsd,
          p.costTotalUsd,
          'relative',
          'down',
          estimatedPart(s.cost.estimatedUsd),
        ),
        kpi(
          'Cost per run',
          formatUsd,
          s.cost.perRunUsd,
          p.costPerRunUsd,
          'relative',
          'down',
          `per success ${formatUsdOrNA(s.cost.perSuccessUsd)}`,
        ),
        kpi(
          'p95 duration',
          formatDuration,
          duration.p95,
          p.durationP95Ms,
          'relative',
          'down',
          `p50 ${formatDuration(duration.p50)} · p99 ${formatDuration(duration.p99)} · avg ${formatDuration(duration.avg)}`,
        ),
        kpi('Cache hit rate', formatPercent, s.cacheHitRate, p.cacheHitRate, 'points', 'up'),
      ]}
    />
  );
}
