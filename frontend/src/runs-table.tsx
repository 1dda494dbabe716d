/** The runs table of the drill-down and the Errors tab; a lazy chunk (see RunsTable in components.tsx). */
import { useState } from 'preact/hooks';
import type { ExecutionView } from './api-types';
import { formatCount, formatDuration } from './format';
import { formatDateTime, runCostText, truncateText } from './format-runs';

function ErrorMessage({ text }: { text: string }) {
  const [expanded, setExpanded] = useState(false);
  const cut = truncateText(text, 100);
  if (!cut.truncated) return <span>{text}</span>;
  return (
    <span>
      {expanded ? text : cut.text}{' '}
      <button
        type="button"
        class="link-button"
        aria-expanded={expanded}
        onClick={() => setExpanded(!expanded)}
      >
        {expanded ? 'Show less' : 'Show all'}
      </button>
    </span>
  );
}

export interface RunsTableProps {
  runs: ExecutionView[];
  timeZone: string;
  caption: string;
}

/**
 * Columns fit their content: ids, times and figures never wrap, and only the
 * error text takes what width is left (no Error column at all when no run of
 * the page failed). On a narrow screen each run is a card (styles.css), and
 * every cell carries its column's name for that.
 */
export function RunsTable({ runs, timeZone, caption }: RunsTableProps) {
  const showError = runs.some((run) => run.status === 'failure' || run.errorType || run.errorMessage);
  const started = `Started (${timeZone})`;
  return (
    <div class="table-scroll">
      <table class="runs">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{started}</th>
            <th scope="col">Run</th>
            <th scope="col">Model</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col" class="num">
              Cost
            </th>
            {showError ? <th scope="col">Error</th> : null}
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.executionId}>
              <td data-label={started}>{formatDateTime(run.startTime, timeZone)}</td>
              <td data-label="Run" class="mono" title={run.executionId}>
                {truncateText(run.executionId, 18).text}
              </td>
              <td data-label="Model">
                <span class="label-text">{run.model}</span>
              </td>
              <td data-label="Status">
                <span class={`status ${run.status}`}>{run.status}</span>
              </td>
              <td data-label="Duration" class="num">
                {formatDuration(run.durationMs)}
              </td>
              <td data-label="Cost" class="num">
                {runCostText(run)}
              </td>
              {showError ? (
                <td data-label="Error" class="error-cell">
                  {run.errorType ? <strong>{run.errorType}</strong> : null}
                  {run.errorType && run.errorMessage ? ': ' : null}
                  {run.errorMessage ? <ErrorMessage text={run.errorMessage} /> : null}
                  {run.status === 'failure' && !run.errorType && !run.errorMessage ? 'Unknown' : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="sr-only">{formatCount(runs.length)} runs listed.</p>
    </div>
  );
}
