/** Overview tab: is the agent healthy? */

import type { Summary } from '../api-types';
import { overviewCharts } from '../charts/overview';
import { EmptyState, KpiCard, KpiGrid } from '../components';
import {
  formatChange,
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
  // The charts' data first: requests leave in hook order.
  const series = useTimeseries(props);
  const summary = useApi<Summary>(`/api/summary?${props.query}`, props.generation);
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

function OverviewKpis({ summary }: { summary: Summary }) {
  const before = summary.previous;
  return (
    <KpiGrid summary={summary}>
      <KpiCard
        label="Executions"
        value={formatCount(summary.executions)}
        change={formatChange(summary.executions, before.executions, 'relative')}
        better="neither"
      />
      <KpiCard
        label="Success rate"
        value={formatPercent(summary.successRate)}
        change={formatChange(summary.successRate, before.successRate, 'points')}
        better="up"
      />
      <KpiCard
        label="Total cost"
        value={formatUsd(summary.cost.totalUsd)}
        change={formatChange(summary.cost.totalUsd, before.costTotalUsd, 'relative')}
        better="down"
      />
      <KpiCard
        label="Cost per run"
        value={formatUsd(summary.cost.perRunUsd)}
        change={formatChange(summary.cost.perRunUsd, before.costPerRunUsd, 'relative')}
        better="down"
        note={`per success ${formatUsdOrNA(summary.cost.perSuccessUsd)}`}
      />
      <KpiCard
        label="p95 duration"
        value={formatDuration(summary.durationMs.p95)}
        change={formatChange(summary.durationMs.p95, before.durationP95Ms, 'relative')}
        better="down"
        note={`p50 ${formatDuration(summary.durationMs.p50)} · p99 ${formatDuration(summary.durationMs.p99)} · avg ${formatDuration(summary.durationMs.avg)}`}
      />
      <KpiCard
        label="Cache hit rate"
        value={formatPercent(summary.cacheHitRate)}
        change={formatChange(summary.cacheHitRate, before.cacheHitRate, 'points')}
        better="up"
      />
    </KpiGrid>
  );
}
