/** The week-over-week card: 7-day rolling duration and cost per run, and how this week compares with the last. */
import { useMemo } from 'preact/hooks';
import { addDays } from '../../../functions/domain/local-time';
import type { Timeseries } from '../api-types';
import { Chart } from '../chart';
import { Card } from '../components';
import { chartSubtitle } from '../literacy';
import { todayIn } from '../state';
import { useApi } from '../use-api';
import { SHOWN_DAYS, weekModel, weekOptions, weekRange } from '../week-over-week';
import { Loaded, pickBucket, type TabProps } from './shared';

const TITLE = 'Week over week';

export function WeekOverWeekCard(props: TabProps) {
  const { view, range, palette } = props;
  // The 7 days compared end on the range's last day (today for the presets).
  const lastDay = /^\d{4}-\d{2}-\d{2}$/.test(range.to) ? range.to : todayIn(view.tz, new Date());
  const params = new URLSearchParams(props.query);
  const requested = weekRange(lastDay);
  params.set('from', requested.from);
  params.set('to', requested.to);
  params.set('granularity', 'day');
  const week = useApi<Timeseries>(`/api/timeseries?${params}`, props.generation, props.waitForCharts);
  const model = useMemo(() => (week.data ? weekModel(week.data.buckets, week.data.tz) : null), [week.data]);
  const options = useMemo(() => weekOptions(palette, view.tz), [palette, view.tz]);
  const shown = { ...view, range: 'custom' as const, from: addDays(lastDay, -(SHOWN_DAYS - 1)), to: lastDay };
  return (
    <Card
      title={TITLE}
      subtitle={chartSubtitle('Duration and cost per run, 7-day rolling averages', undefined, shown)}
      hint="Each point averages the runs of that day and the 6 before it, so one odd day does not swing the line. The sentence compares the last 7 days with the same 7 days a week earlier."
      csv={
        model
          ? { title: TITLE, header: model.csvHeader, rows: model.csvRows, from: shown.from, to: shown.to }
          : undefined
      }
    >
      <Loaded
        source={week}
        render={() =>
          model ? (
            <>
              <p class="week-sentence" data-week-over-week>
                {model.sentences.join(' ')}
              </p>
              <Chart
                title={TITLE}
                options={options}
                data={model.data}
                summary={model.summary}
                onPick={pickBucket(model.buckets, props.onPick, 'day')}
              />
            </>
          ) : null
        }
      />
    </Card>
  );
}
