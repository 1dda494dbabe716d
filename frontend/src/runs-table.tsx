/** The runs table of the drill-down and the Errors tab; a lazy chunk (see RunsTable in components.tsx). */
import { useState } from 'preact/hooks';
import type { ExecutionView } from './api-types';
import { formatCount, formatDuration, formatUsd } from './format';
import { formatDateTime, truncateText } from './format-runs';

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

export function RunsTable({ runs, timeZone, caption }: RunsTableProps) {
  return (
    <div class="table-scroll">
      <table class="runs">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Started ({timeZone})</th>
            <th scope="col">Run</th>
            <th scope="col">Model</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Duration
            </th>
            <th scope="col" class="num">
              Cost
            </th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.executionId}>
              <td class="nowrap">{formatDateTime(run.startTime, timeZone)}</td>
              <td class="mono" title={run.executionId}>
                {truncateText(run.executionId, 18).text}
              </td>
              <td>{run.model}</td>
              <td>
                <span class={`status ${run.status}`}>{run.status}</span>
              </td>
              <td class="num">{formatDuration(run.durationMs)}</td>
              <td class="num">{run.costUsd == null ? 'unknown' : formatUsd(run.costUsd)}</td>
              <td class="error-cell">
                {run.errorType ? <strong>{run.errorType}</strong> : null}
                {run.errorType && run.errorMessage ? ': ' : null}
                {run.errorMessage ? <ErrorMessage text={run.errorMessage} /> : null}
                {run.status === 'failure' && !run.errorType && !run.errorMessage ? 'Unknown' : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="sr-only">{formatCount(runs.length)} runs listed.</p>
    </div>
  );
}
