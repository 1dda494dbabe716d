/** The three tabs: Overview (healthy?), Efficiency (where to save?), Errors (why do runs fail?). */
import { useMemo, useState } from 'preact/hooks';
import type {
  Bucket,
  ErrorsResponse,
  Granularity,
  ModelStats,
  ModelsResponse,
  RunsResponse,
  Summary,
  Timeseries,
} from './api-types';
import { Chart } from './chart';
import { scatterOptions, timeChartOptions } from './chart-options';
import { BarList, Card, EmptyState, ErrorBox, KpiCard, RunsTable, Skeleton } from './components';
import {
  formatChange,
  formatCount,
  formatDecimal,
  formatDuration,
  formatPercent,
  formatUsd,
  formatUsdOrNA,
} from './format';
import { chartSubtitle, emptySuggestion, hints } from './literacy';
import { CACHE_HIT_TARGET, scatterModel, type TimeChartKind, timeChartModel } from './series';
import type { ViewState } from './state';
import type { Palette } from './theme';
import { type Loadable, useApi } from './use-api';

export interface TabProps {
  view: ViewState;
  /** Query string of the view's filters for the API. */
  query: string;
  range: { from: string; to: string };
  generation: number;
  palette: Palette;
  onPick: (bucket: Bucket, granularity: Granularity) => void;
}

function Loaded<T>({
  source,
  height,
  render,
}: {
  source: Loadable<T>;
  height?: number;
  render: (data: T) => preact.ComponentChildren;
}) {
  if (source.data !== undefined) return <>{render(source.data)}</>;
  if (source.error) return <ErrorBox message={source.error} onRetry={source.retry} />;
  return <Skeleton height={height ?? 220} />;
}

interface TimeChartCardProps extends TabProps {
  kind: TimeChartKind;
  title: string;
  measure: string;
  hint?: string;
  series: Loadable<Timeseries>;
}

function TimeChartCard({
  kind,
  title,
  measure,
  hint,
  series,
  view,
  palette,
  range,
  onPick,
}: TimeChartCardProps) {
  const data = series.data;
  const granularity = data?.granularity ?? 'day';
  const model = useMemo(
    () =>
      data
        ? timeChartModel(kind, data.buckets, {
            granularity: data.granularity,
            tz: data.tz,
            nowMs: Date.now(),
          })
        : null,
    [data, kind],
  );
  const options = useMemo(
    () => timeChartOptions(kind, palette, view.tz, granularity),
    [kind, palette, view.tz, granularity],
  );
  return (
    <Card
      title={title}
      subtitle={chartSubtitle(measure, data?.granularity, view)}
      hint={hint}
      csv={model ? { title, header: model.csvHeader, rows: model.csvRows, ...range } : undefined}
    >
      <Loaded
        source={series}
        render={() =>
          model ? (
            <Chart
              title={title}
              options={options}
              data={model.data}
              summary={model.summary}
              partial={model.partial}
              onPick={(index) => {
                const bucket = model.buckets[index];
                if (bucket) onPick(bucket, granularity);
              }}
            />
          ) : null
        }
      />
    </Card>
  );
}

function hasRuns(series: Timeseries | undefined): boolean {
  return !!series && series.buckets.some((bucket) => bucket.executions > 0);
}

function useTimeseries(props: TabProps) {
  return useApi<Timeseries>(`/api/timeseries?${props.query}`, props.generation);
}

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

type SortKey =
  | 'model'
  | 'executions'
  | 'successRate'
  | 'avg'
  | 'p50'
  | 'p95'
  | 'p99'
  | 'costPerRunUsd'
  | 'costUsd'
  | 'cacheHitRate'
  | 'files';

const sortValue: Record<SortKey, (m: ModelStats) => number | string | null> = {
  model: (m) => m.model,
  executions: (m) => m.executions,
  successRate: (m) => m.successRate,
  avg: (m) => m.durationMs.avg,
  p50: (m) => m.durationMs.p50,
  p95: (m) => m.durationMs.p95,
  p99: (m) => m.durationMs.p99,
  costPerRunUsd: (m) => m.costPerRunUsd,
  costUsd: (m) => m.costUsd,
  cacheHitRate: (m) => m.cacheHitRate,
  files: (m) => m.filesModifiedPerSuccessfulRun,
};

const columns: { key: SortKey; label: string; cell: (m: ModelStats) => string }[] = [
  { key: 'model', label: 'Model', cell: (m) => m.model },
  { key: 'executions', label: 'Runs', cell: (m) => formatCount(m.executions) },
  { key: 'successRate', label: 'Success rate', cell: (m) => formatPercent(m.successRate) },
  { key: 'avg', label: 'Avg duration', cell: (m) => formatDuration(m.durationMs.avg) },
  { key: 'p50', label: 'p50 duration', cell: (m) => formatDuration(m.durationMs.p50) },
  { key: 'p95', label: 'p95 duration', cell: (m) => formatDuration(m.durationMs.p95) },
  { key: 'p99', label: 'p99 duration', cell: (m) => formatDuration(m.durationMs.p99) },
  { key: 'costPerRunUsd', label: 'Cost per run', cell: (m) => formatUsd(m.costPerRunUsd) },
  { key: 'costUsd', label: 'Total cost', cell: (m) => formatUsd(m.costUsd) },
  { key: 'cacheHitRate', label: 'Cache hit rate', cell: (m) => formatPercent(m.cacheHitRate) },
  {
    key: 'files',
    label: 'Files per successful run',
    cell: (m) => formatDecimal(m.filesModifiedPerSuccessfulRun),
  },
];

/** Sorts with missing values last whichever the direction, so "—" never tops a ranking. */
function sortModels(models: ModelStats[], key: SortKey, descending: boolean): ModelStats[] {
  return [...models].sort((a, b) => {
    const x = sortValue[key](a);
    const y = sortValue[key](b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const order = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return descending ? -order : order;
  });
}

function ModelTable({ models }: { models: ModelStats[] }) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'executions',
    descending: true,
  });
  const rows = useMemo(() => sortModels(models, sort.key, sort.descending), [models, sort]);
  return (
    <div class="table-scroll">
      <table class="models">
        <caption class="sr-only">Models compared; the column buttons sort the table.</caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const active = sort.key === column.key;
              return (
                <th
                  key={column.key}
                  scope="col"
                  class={column.key === 'model' ? '' : 'num'}
                  aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}
                >
                  <button
                    type="button"
                    class="sort"
                    onClick={() =>
                      setSort({
                        key: column.key,
                        descending: active ? !sort.descending : column.key !== 'model',
                      })
                    }
                  >
                    {column.label}
                    <span aria-hidden="true">{active ? (sort.descending ? ' ↓' : ' ↑') : ''}</span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((model) => (
            <tr key={model.model}>
              {columns.map((column) =>
                column.key === 'model' ? (
                  <th key={column.key} scope="row">
                    {column.cell(model)}
                  </th>
                ) : (
                  <td key={column.key} class="num">
                    {column.cell(model)}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The /api/models rows the view's model filter selects (the request itself spans every model). */
export function selectedModels(models: ModelStats[], view: ViewState): ModelStats[] {
  return view.models.length === 0 ? models : models.filter((m) => view.models.includes(m.model));
}

export function EfficiencyTab(props: TabProps & { models: Loadable<ModelsResponse> }) {
  const { view, range } = props;
  // The charts' data first: requests leave in hook order.
  const series = useTimeseries(props);
  const summary = useApi<Summary>(`/api/summary?${props.query}`, props.generation);
  const scatter = useMemo(() => (series.data ? scatterModel(series.data.buckets) : null), [series.data]);
  const scatterOpts = useMemo(() => scatterOptions(props.palette), [props.palette]);
  if (series.data && !hasRuns(series.data)) return <EmptyState suggestion={emptySuggestion(view)} />;
  const models = props.models.data ? selectedModels(props.models.data.models, view) : [];
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
            <div class="kpis">
              <KpiCard
                label="Cache hit rate"
                value={formatPercent(s.cacheHitRate)}
                change={formatChange(s.cacheHitRate, p.cacheHitRate, 'points')}
                better="up"
                note={`target above ${formatPercent(CACHE_HIT_TARGET, 0)}`}
              />
              <KpiCard
                label="Files modified per successful run"
                value={formatDecimal(s.filesModified.perSuccessfulRun)}
                change={formatChange(
                  s.filesModified.perSuccessfulRun,
                  p.filesModifiedPerSuccessfulRun,
                  'relative',
                )}
                better="up"
              />
              <KpiCard
                label="LLM calls per run"
                value={formatDecimal(s.llmCalls.perRun)}
                change={formatChange(s.llmCalls.perRun, p.llmCallsPerRun, 'relative')}
                better="down"
              />
              <KpiCard
                label="Cost per success"
                value={formatUsdOrNA(s.cost.perSuccessUsd)}
                change={formatChange(s.cost.perSuccessUsd, p.costPerSuccessUsd, 'relative')}
                better="down"
              />
            </div>
          );
        }}
      />
      <div class="grid">
        <TimeChartCard
          {...props}
          series={series}
          kind="cacheHitRate"
          title="Cache hit rate"
          measure="Cache reads over all prompt tokens"
          hint={hints.cache}
        />
        <Card
          title="Cache efficiency by model"
          subtitle={chartSubtitle('Cache hit rate per model', undefined, view)}
          hint={`The line marks the ${formatPercent(CACHE_HIT_TARGET, 0)} target.`}
          summary={models.map((m) => `${m.model}: ${formatPercent(m.cacheHitRate)}`).join('; ') || 'No data.'}
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
                rows={models.map((m) => ({
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
        <Card
          title="LLM calls against cost"
          subtitle={chartSubtitle('One point per bucket', series.data?.granularity, view)}
          hint={hints.scatter}
          csv={
            scatter
              ? {
                  title: 'LLM calls against cost',
                  header: scatter.csvHeader,
                  rows: scatter.csvRows,
                  ...range,
                }
              : undefined
          }
        >
          <Loaded
            source={series}
            render={(s) =>
              scatter ? (
                <Chart
                  title="LLM calls against cost"
                  options={scatterOpts}
                  data={scatter.data}
                  summary={scatter.summary}
                  onPick={(index) => {
                    const bucket = scatter.buckets[index];
                    if (bucket) props.onPick(bucket, s.granularity);
                  }}
                />
              ) : null
            }
          />
        </Card>
      </div>
    </>
  );
}

export function ErrorsTab(props: TabProps) {
  const { view, range } = props;
  const series = useTimeseries(props);
  const errors = useApi<ErrorsResponse>(`/api/errors?${props.query}&limit=10`, props.generation);
  const failingQuery = new URLSearchParams(props.query);
  failingQuery.set('status', 'failure');
  failingQuery.set('limit', '10');
  const showFailing = view.status !== 'success';
  const recent = useApi<RunsResponse>(showFailing ? `/api/runs?${failingQuery}` : null, props.generation);
  if (series.data && !hasRuns(series.data)) return <EmptyState suggestion={emptySuggestion(view)} />;
  const e = errors.data;
  const top = e?.errors ?? [];
  const otherShare = e && e.totalFailures > 0 ? e.other.count / e.totalFailures : 0;
  const topRows = [
    ...top.map((x) => ({
      label: x.errorType,
      fraction: x.share,
      valueText: formatCount(x.count),
      detail: formatPercent(x.share),
    })),
    ...(e && e.other.count > 0
      ? [
          {
            label: 'Other',
            fraction: otherShare,
            valueText: formatCount(e.other.count),
            detail: formatPercent(otherShare),
          },
        ]
      : []),
  ];
  const byModel = e?.byModel ?? [];
  const maxFailures = Math.max(1, ...byModel.map((m) => m.failures));
  return (
    <div class="grid">
      <Card
        title="Top 10 error types"
        subtitle={chartSubtitle(
          `Failures by error type (${formatCount(e?.totalFailures ?? 0)} in all)`,
          undefined,
          view,
        )}
        hint={hints.errors}
        summary={topRows.map((r) => `${r.label}: ${r.valueText} (${r.detail})`).join('; ') || 'No failures.'}
        csv={{
          title: 'Top error types',
          header: ['error_type', 'count', 'share'],
          rows: [
            ...top.map((x) => [x.errorType, x.count, x.share]),
            ...(e && e.other.count > 0 ? [['Other', e.other.count, otherShare]] : []),
          ],
          ...range,
        }}
      >
        <Loaded
          source={errors}
          render={() =>
            topRows.length > 0 ? (
              <BarList label="Error types" rows={topRows} />
            ) : (
              <p class="muted">No failures in this range.</p>
            )
          }
        />
      </Card>
      <TimeChartCard
        {...props}
        series={series}
        kind="failures"
        title="Failure trend"
        measure="Failed runs, anomalies marked"
        hint="A marker flags a bucket more than 2 standard deviations from its trailing baseline (volume, success rate, cost or duration)."
      />
      <Card
        title="Failures by model"
        subtitle={chartSubtitle('Failed runs and failure rate per model', undefined, view)}
        summary={
          byModel
            .map(
              (m) =>
                `${m.model}: ${formatCount(m.failures)} failures, ${formatPercent(m.failureRate)} of its runs`,
            )
            .join('; ') || 'No data.'
        }
        csv={{
          title: 'Failures by model',
          header: ['model', 'failures', 'executions', 'failure_rate'],
          rows: byModel.map((m) => [m.model, m.failures, m.executions, m.failureRate]),
          ...range,
        }}
      >
        <Loaded
          source={errors}
          render={() => (
            <BarList
              label="Failures by model"
              rows={byModel.map((m) => ({
                label: m.model,
                fraction: m.failures / maxFailures,
                valueText: formatCount(m.failures),
                detail: `${formatPercent(m.failureRate)} of runs`,
              }))}
            />
          )}
        />
      </Card>
      <Card
        title="Most recent failing runs"
        subtitle={chartSubtitle('Newest first', undefined, { ...view, status: 'failure' })}
        wide
      >
        {showFailing ? (
          <Loaded
            source={recent}
            render={(r) =>
              r.runs.length > 0 ? (
                <RunsTable runs={r.runs} timeZone={view.tz} caption="Most recent failing runs" />
              ) : (
                <p class="muted">No failing runs in this range.</p>
              )
            }
          />
        ) : (
          <p class="muted">Hidden: the status filter shows successful runs only.</p>
        )}
      </Card>
    </div>
  );
}
