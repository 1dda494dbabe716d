/** What the three tabs share: their props, the loading wrapper and the time-chart card. */
import { useMemo, useRef } from 'preact/hooks';
import type { Bucket, Granularity, Timeseries } from '../api-types';
import { Chart } from '../chart';
import { ANOMALY_RULE, type ChartDef, chartModel, chartOptions, type ModelSource } from '../chart-kit';
import { Card, ErrorBox, Skeleton } from '../components';
import { chartSubtitle } from '../literacy';
import type { ViewState } from '../state';
import type { Palette } from '../theme';
import { type Loadable, useApi } from '../use-api';

export interface TabProps {
  view: ViewState;
  /** Query string of the view's filters for the API. */
  query: string;
  range: { from: string; to: string };
  generation: number;
  /** True until the view's timeseries has answered: a tab's other requests wait for it (useApi's `wait`). */
  waitForCharts: boolean;
  palette: Palette;
  onPick: (bucket: Bucket, granularity: Granularity) => void;
}

export function Loaded<T>({
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

export interface TimeChartCardProps extends TabProps {
  /** The chart's definition, from the chart table (frontend/src/charts/). */
  chart: ChartDef;
  series: Loadable<Timeseries>;
  /** Spans the whole grid row. */
  wide?: boolean;
}

/** One chart of the chart table: title, hint, CSV, summary, anomaly key and drill-down all from its definition. */
export function TimeChartCard({
  chart: def,
  series,
  view,
  palette,
  range,
  onPick,
  wide,
}: TimeChartCardProps) {
  const data = series.data;
  const granularity = data?.granularity ?? 'day';
  const source = useRef<ModelSource>({ current: null }).current;
  const model = useMemo(
    () =>
      data
        ? chartModel(def, data.buckets, { granularity: data.granularity, tz: data.tz, nowMs: Date.now() })
        : null,
    [data, def],
  );
  source.current = model;
  const options = useMemo(
    () => chartOptions(def, palette, view.tz, granularity, source),
    [def, palette, view.tz, granularity, source],
  );
  const marksAnomalies = def.series.some((s) => s.anomaly);
  return (
    <Card
      title={def.title}
      subtitle={chartSubtitle(def.measure, data?.granularity, view)}
      hint={def.hint}
      csv={model ? { title: def.title, header: model.csvHeader, rows: model.csvRows, ...range } : undefined}
      wide={wide}
    >
      <Loaded
        source={series}
        render={() =>
          model ? (
            <>
              <Chart
                title={def.title}
                options={options}
                data={model.data}
                summary={model.summary}
                partial={model.partial}
                onPick={pickBucket(model.buckets, onPick, granularity)}
              />
              {marksAnomalies && model.anomalies.length > 0 ? (
                <p class="hint" data-anomaly-key>
                  <span aria-hidden="true">● </span>Anomaly ({ANOMALY_RULE}): {model.anomalies.join('; ')}.
                </p>
              ) : null}
            </>
          ) : null
        }
      />
    </Card>
  );
}

/** A chart's onPick: the drill-down of the bucket at a data index. */
export function pickBucket(buckets: Bucket[], onPick: TabProps['onPick'], granularity: Granularity) {
  return (index: number) => {
    const bucket = buckets[index];
    if (bucket) onPick(bucket, granularity);
  };
}

export function hasRuns(series: Timeseries | undefined): boolean {
  return !!series && series.buckets.some((bucket) => bucket.executions > 0);
}

/** The view's timeseries, which every tab's charts draw from (one request per refresh: api.ts shares it). */
export function useTimeseries(props: Pick<TabProps, 'query' | 'generation'>) {
  return useApi<Timeseries>(`/api/timeseries?${props.query}`, props.generation);
}
