/** Overview tab: is the agent healthy? */
import type { Summary } from '../api-types';
import { EmptyState, KpiCard } from '../components';
import {
  formatChange,
  formatCount,
  formatDuration,
  formatPercent,
  formatUsd,
  formatUsdOrNA,
} from '../format';
import { emptySuggestion, hints } from '../literacy';
import { useApi } from '../use-api';
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
        <TimeChartCard
          {...props}
          series={series}
          kind="executions"
          title="Executions"
          measure="Successful and failed runs"
        />
        <TimeChartCard
          {...props}
          series={series}
          kind="successRate"
          title="Success rate"
          measure="Share of runs that succeeded"
          hint={hints.successRate}
        />
        <TimeChartCard
          {...props}
          series={series}
          kind="cost"
          title="Cost and cost per run"
          measure="Total cost (left) and cost per run (right)"
          hint={hints.cost}
        />
        <TimeChartCard
          {...props}
          series={series}
          kind="tokens"
          title="Token usage"
          measure="Input, output, cache read and cache write tokens"
          hint={hints.tokens}
        />
        <TimeChartCard
          {...props}
          series={series}
          kind="duration"
          title="Duration"
          measure="Average, p50, p95 and p99 run duration"
          hint={hints.duration}
        />
      </div>
    </>
  );
}

function OverviewKpis({ summary }: { summary: Summary }) {
  const before = summary.previous;
  return (
    <div class="kpis">
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
    </div>
  );
}
