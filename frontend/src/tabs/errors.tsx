/** Errors tab: why do runs fail? */

import type { ErrorsResponse, RunsResponse } from '../api-types';
import { failuresChart } from '../charts/errors';
import { BarList, Card, EmptyState, firstModels, RunsTable } from '../components';
import { formatCount, formatPercent } from '../format';
import { chartSubtitle, emptySuggestion, hints } from '../literacy';
import { useApi } from '../use-api';
import { hasRuns, Loaded, type TabProps, TimeChartCard, useTimeseries } from './shared';

export function ErrorsTab(props: TabProps) {
  const { view, range } = props;
  const series = useTimeseries(props);
  const errors = useApi<ErrorsResponse>(
    `/api/errors?${props.query}&limit=10`,
    props.generation,
    props.waitForCharts,
  );
  const failingQuery = new URLSearchParams(props.query);
  failingQuery.set('status', 'failure');
  failingQuery.set('limit', '10');
  const showFailing = view.status !== 'success';
  const recent = useApi<RunsResponse>(
    showFailing ? `/api/runs?${failingQuery}` : null,
    props.generation,
    props.waitForCharts,
  );
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
  const { shown: modelsShown, rest: modelsRest } = firstModels(
    byModel,
    (m) => m.failures,
    'failures',
    'the CSV lists every one.',
  );
  return (
    <div class="grid">
      {/* The trend across the page, then the two bar lists side by side: no half-empty card. */}
      <TimeChartCard {...props} series={series} chart={failuresChart} wide />
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
      <Card
        title="Failures by model"
        subtitle={chartSubtitle('Failed runs and failure rate per model', undefined, view)}
        summary={
          modelsShown
            .map(
              (m) =>
                `${m.model}: ${formatCount(m.failures)} failures, ${formatPercent(m.failureRate)} of its runs`,
            )
            .concat(modelsRest ?? [])
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
              rest={modelsRest}
              rows={modelsShown.map((m) => ({
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
