/** The scatter card: LLM calls per run against cost per run, with r and n on screen. */
import { useMemo } from 'preact/hooks';
import type { Timeseries } from '../api-types';
import { Chart } from '../chart';
import { bucketWord } from '../chart-kit';
import { Card } from '../components';
import { chartSubtitle } from '../literacy';
import { correlationText, SCATTER_MIN_POINTS, scatterModel, scatterOptions } from '../scatter';
import type { Loadable } from '../use-api';
import { Loaded, pickBucket, type TabProps } from './shared';

const TITLE = 'LLM calls against cost';

export function ScatterCard(props: TabProps & { series: Loadable<Timeseries> }) {
  const { series, view, range, palette } = props;
  const granularity = series.data?.granularity ?? 'day';
  const model = useMemo(() => (series.data ? scatterModel(series.data.buckets) : null), [series.data]);
  const options = useMemo(() => scatterOptions(palette), [palette]);
  const unit = granularity === 'day' ? 'day' : 'hour';
  return (
    <Card
      title={TITLE}
      subtitle={chartSubtitle('Per run, one point per bucket', series.data?.granularity, view)}
      hint={`Each point is one ${unit} with runs: its LLM calls per run against its cost per run, so a busy ${unit} weighs no more than a quiet one. r near 1 means ${unit}s whose runs make more calls also cost more per run; it does not say the calls cause the cost (bigger tasks need both), and over fewer than ${SCATTER_MIN_POINTS} points it is mostly chance.`}
      csv={model ? { title: TITLE, header: model.csvHeader, rows: model.csvRows, ...range } : undefined}
    >
      <Loaded
        source={series}
        render={() =>
          model ? (
            <>
              <p class="scatter-stats" data-scatter-stats>
                r = {correlationText(model.r)} · n = {model.n} {bucketWord(granularity, model.n)}
                {model.n < SCATTER_MIN_POINTS ? ' (too few points to read much into r)' : ''}
              </p>
              <Chart
                title={TITLE}
                options={options}
                data={model.data}
                summary={model.summary}
                onPick={pickBucket(model.buckets, props.onPick, granularity)}
              />
            </>
          ) : null
        }
      />
    </Card>
  );
}
