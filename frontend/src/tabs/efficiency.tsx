import { CACHE_HIT_TARGET } from '../../../functions/domain/targets';
import type { ModelStats, ModelsResponse, Summary } from '../api-types';
import { cacheHitRateChart } from '../charts/efficiency';
import { BarList, Card, EmptyState, firstModels, KpiGrid, kpi } from '../components';
import { formatDecimal, formatPercent, formatUsdOrNA } from '../format';
import { chartSubtitle, emptySuggestion } from '../literacy';
import type { ViewState } from '../state';
import { type Loadable, useApi } from '../use-api';
import { ModelTable } from './model-table';
import { ScatterCard } from './scatter-card';
import { hasRuns, Loaded, type TabProps, TimeChartCard, useTimeseries } from './shared';

/** The /api/models rows the view's model filter selects (the request itself spans every model). */
function selectedModels(models: ModelStats[], view: ViewState): ModelStats[] {
  return view.models.length === 0 ? models : models.filter((m) => view.models.includes(m.model));
}

export function EfficiencyTab(props: TabProps & { models: Loadable<ModelsResponse> }) {
  const { view, range } = props;
  const series = useTimeseries(props);
  const summary = useApi<Summary>(`/api/summary?${props.query}`, props.generation, props.waitForCharts);
  if (series.data && !hasRuns(series.data)) return <EmptyState suggestion={emptySuggestion(view)} />;
  const models = props.models.data ? selectedModels(props.models.data.models, view) : [];
  // The busiest models (the API lists most runs first); the table below has every one.
  const { shown: barModels, rest: barRest } = firstModels(
    models,
    (m) => m.executions,
    'runs',
    'the model comparison lists every one.',
  );
  const modelCsv = {
    title: 'Model comparison',
    header: [
      'model',
      'runs',
      'success_rate',
      'duration_avg_ms',
      'duration_p50_ms',
      'duration_p95_ms',
      'duration_p99_ms',
      'cost_per_run_usd',
      'cost_usd',
      'estimated_cost_usd',
      'cache_hit_rate',
      'files_per_successful_run',
    ],
    rows: models.map((m) => [
      m.model,
      m.executions,
      m.successRate,
      m.durationMs.avg,
      m.durationMs.p50,
      m.durationMs.p95,
      m.durationMs.p99,
      m.costPerRunUsd,
      m.costUsd,
      m.cost.estimatedUsd,
      m.cacheHitRate,
      m.filesModifiedPerSuccessfulRun,
    ]),
    ...range,
  };
  return (
    <>
      <Loaded
        source={summary}
        height={96}
        render={(s) => {
          const p = s.previous;
          return (
            <KpiGrid
              summary={s}
              kpis={[
                kpi(
                  'Cache hit rate',
                  formatPercent,
                  s.cacheHitRate,
                  p.cacheHitRate,
                  'points',
                  'up',
                  `target above ${formatPercent(CACHE_HIT_TARGET, 0)}`,
                ),
                kpi(
                  'Files modified per successful run',
                  formatDecimal,
                  s.filesModified.perSuccessfulRun,
                  p.filesModifiedPerSuccessfulRun,
                  'relative',
                  'up',
                ),
                kpi(
                  'LLM calls per run',
                  formatDecimal,
                  s.llmCalls.perRun,
                  p.llmCallsPerRun,
                  'relative',
                  'down',
                ),
                kpi(
                  'Cost per success',
                  formatUsdOrNA,
                  s.cost.perSuccessUsd,
                  p.costPerSuccessUsd,
                  'relative',
                  'down',
                ),
              ]}
            />
          );
        }}
      />
      <div class="grid">
        <TimeChartCard {...props} series={series} chart={cacheHitRateChart} />
        <Card
          title="Cache efficiency by model"
          subtitle={chartSubtitle('Cache hit rate per model', undefined, view)}
          hint={`The line marks the ${formatPercent(CACHE_HIT_TARGET, 0)} target.`}
          summary={
            barModels
              .map((m) => `${m.model}: ${formatPercent(m.cacheHitRate)}`)
              .concat(barRest ?? [])
              .join('; ') || 'No data.'
          }
          csv={{
            title: 'Cache efficiency by model',
            header: ['model', 'cache_hit_rate', 'cache_read_tokens'],
            rows: models.map((m) => [m.model, m.cacheHitRate, m.tokens.cacheRead]),
            ...range,
          }}
        >
          <Loaded
            source={props.models}
            render={() => (
              <BarList
                label="Cache hit rate by model"
                marker={{ at: CACHE_HIT_TARGET, label: `${formatPercent(CACHE_HIT_TARGET, 0)} target` }}
                rest={barRest}
                rows={barModels.map((m) => ({
                  label: m.model,
                  fraction: m.cacheHitRate ?? 0,
                  valueText: formatPercent(m.cacheHitRate),
                }))}
              />
            )}
          />
        </Card>
        <Card
          title="Model comparison"
          subtitle={chartSubtitle('Per model', undefined, view)}
          csv={modelCsv}
          wide
        >
          <Loaded source={props.models} render={() => <ModelTable models={models} />} />
        </Card>
        <ScatterCard {...props} series={series} />
      </div>
    </>
  );
}
