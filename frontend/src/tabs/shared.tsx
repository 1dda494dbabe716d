/** What the three tabs share: their props, the loading wrapper and the time-chart card. */
import { useMemo } from 'preact/hooks';
import type { Bucket, Granularity, Timeseries } from '../api-types';
import { Chart } from '../chart';
import { timeChartOptions } from '../chart-options';
import { Card, ErrorBox, Skeleton } from '../components';
import { chartSubtitle } from '../literacy';
import { type TimeChartKind, timeChartModel } from '../series';
import type { ViewState } from '../state';
import type { Palette } from '../theme';
import { type Loadable, useApi } from '../use-api';

export interface TabProps {
  view: ViewState;
  /** Query string of the view's filters for the API. */
  query: string;
  range: { from: string; to: string };
  generation: number;
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
  kind: TimeChartKind;
  title: string;
  measure: string;
  hint?: string;
  series: Loadable<Timeseries>;
}

export function TimeChartCard({
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

export function hasRuns(series: Timeseries | undefined): boolean {
  return !!series && series.buckets.some((bucket) => bucket.executions > 0);
}

export function useTimeseries(props: TabProps) {
  return useApi<Timeseries>(`/api/timeseries?${props.query}`, props.generation);
}
