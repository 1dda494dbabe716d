/** The sortable model comparison table of the Efficiency tab. */
import { useMemo, useState } from 'preact/hooks';
import type { ModelStats } from '../api-types';
import {
  estimatedPart,
  formatCount,
  formatDecimal,
  formatDuration,
  formatPercent,
  formatUsd,
} from '../format';

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
  {
    key: 'costUsd',
    label: 'Total cost',
    cell: (m) => `${formatUsd(m.costUsd)} ${estimatedPart(m.cost.estimatedUsd)}`.trimEnd(),
  },
  { key: 'cacheHitRate', label: 'Cache hit rate', cell: (m) => formatPercent(m.cacheHitRate) },
  {
    key: 'files',
    label: 'Files per successful run',
    cell: (m) => formatDecimal(m.filesModifiedPerSuccessfulRun),
  },
];

/**
 * Rows shown until the reader asks for all: the top of the current sort, so
 * sorting by success rate still brings the worst models of hundreds first.
 */
const TABLE_ROWS = 20;

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

export function ModelTable({ models }: { models: ModelStats[] }) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'executions',
    descending: true,
  });
  const [showAll, setShowAll] = useState(false);
  const sorted = useMemo(() => sortModels(models, sort.key, sort.descending), [models, sort]);
  const rows = showAll ? sorted : sorted.slice(0, TABLE_ROWS);
  return (
    <>
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
                      <span class="label-text">{column.cell(model)}</span>
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
      {sorted.length > TABLE_ROWS ? (
        <button type="button" class="link-button" onClick={() => setShowAll(!showAll)}>
          {showAll ? `Show the first ${TABLE_ROWS}` : `Show all ${formatCount(sorted.length)} models`}
        </button>
      ) : null}
    </>
  );
}
