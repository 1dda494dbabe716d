/** Building blocks shared by the tabs: cards, states, bar lists and the runs table. */
import type { ComponentChildren, ComponentType } from 'preact';
import { useId } from 'preact/hooks';
import type { Summary } from './api-types';
import type { Cell } from './csv';
import { type Change, formatChange, formatCount } from './format';
import { useLazy } from './lazy';
import { comparisonText } from './literacy';
import type { RunsTableProps } from './runs-table';

export function Skeleton({ height = 220, label = 'Loading' }: { height?: number; label?: string }) {
  return <div class="skeleton" style={{ height: `${height}px` }} role="status" aria-label={label} />;
}

export function ErrorBox({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div class="error-box" role="alert">
      <p>
        <strong>The data could not be loaded.</strong> {message}
      </p>
      <button type="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}

export function EmptyState({ suggestion, children }: { suggestion: string; children?: ComponentChildren }) {
  return (
    <div class="empty-state" role="status">
      <h2>No data for these filters</h2>
      <p>{suggestion}</p>
      {children}
    </div>
  );
}

interface CsvSource {
  title: string;
  header: string[];
  rows: Cell[][];
  from: string;
  to: string;
}

function CsvButton({ source }: { source: CsvSource }) {
  return (
    <button
      type="button"
      class="link-button"
      // The CSV writer is a lazy chunk: most visits never export.
      onClick={() =>
        import('./csv').then(({ buildCsv, csvFileName, saveFile }) =>
          saveFile(
            new Blob([buildCsv(source.header, source.rows)], { type: 'text/csv;charset=utf-8' }),
            csvFileName(source.title, source.from, source.to),
          ),
        )
      }
      aria-label={`Download the data of "${source.title}" as CSV`}
    >
      CSV
    </button>
  );
}

export interface CardProps {
  title: string;
  subtitle: string;
  hint?: string | undefined;
  /** Text alternative for the chart, read by screen readers. */
  summary?: string | undefined;
  csv?: CsvSource | undefined;
  wide?: boolean;
  children: ComponentChildren;
}

export function Card({ title, subtitle, hint, summary, csv, wide, children }: CardProps) {
  const id = useId();
  return (
    <section class={wide ? 'card wide' : 'card'} aria-labelledby={`${id}-title`}>
      <header class="card-head">
        <div>
          <h2 id={`${id}-title`}>{title}</h2>
          <p class="subtitle">{subtitle}</p>
        </div>
        {csv ? <CsvButton source={csv} /> : null}
      </header>
      {children}
      {hint ? <p class="hint">{hint}</p> : null}
      {summary ? (
        <p class="sr-only" data-summary>
          {summary}
        </p>
      ) : null}
    </section>
  );
}

export type Better = 'up' | 'down' | 'neither';

/** One KPI card: a figure of this period, its change and which way is good. */
export interface Kpi {
  label: string;
  value: string;
  change: Change;
  better: Better;
  note?: string | undefined;
}

/**
 * The KPI of a figure `now` against `before`, the same figure over the
 * previous period: rates change in percentage points (`'points'`, a relative
 * change of a rate is easy to misread), other figures relatively.
 */
export function kpi(
  label: string,
  format: (value: number | null) => string,
  now: number | null,
  before: number | null,
  kind: 'relative' | 'points',
  better: Better,
  note?: string,
): Kpi {
  return { label, value: format(now), change: formatChange(now, before, kind), better, note };
}

function KpiCard({ label, value, change, better, note }: Kpi) {
  const tone =
    change.direction === 'none' || change.direction === 'flat' || better === 'neither'
      ? 'neutral'
      : change.direction === better
        ? 'good'
        : 'bad';
  const arrow = change.direction === 'up' ? '▲' : change.direction === 'down' ? '▼' : '';
  return (
    <div class="kpi">
      <div class="kpi-label">{label}</div>
      <div class="kpi-value" data-kpi={label}>
        {value}
      </div>
      <div class={`kpi-change ${tone}`}>
        <span aria-hidden="true">{arrow} </span>
        {change.text}
        {change.direction === 'none' ? '' : ' vs previous period'}
      </div>
      {note ? <div class="kpi-note">{note}</div> : null}
    </div>
  );
}

/** A row of KPI cards, and under it what their changes compare with. */
export function KpiGrid({ summary, kpis }: { summary: Summary; kpis: Kpi[] }) {
  return (
    <div class="kpi-group">
      <div class="kpis">
        {kpis.map((card) => (
          <KpiCard key={card.label} {...card} />
        ))}
      </div>
      <p class="subtitle kpi-basis" data-kpi-basis>
        {comparisonText(summary, Date.now())}
      </p>
    </div>
  );
}

export interface BarRow {
  label: string;
  /** 0..1 of the bar's full width. */
  fraction: number;
  valueText: string;
  detail?: string;
}

/**
 * Rows a bar list of models shows: a range may hold hundreds of models, and
 * a card of hundreds of bars hides the rest of the tab. The CSV, and on the
 * Efficiency tab the model comparison, list every one.
 */
const BAR_ROWS = 10;

/**
 * The first BAR_ROWS models of a list ranked by `countOf`, and a line on the
 * others, if any: "295 more models, with 295 runs: {listedIn}".
 */
export function firstModels<T>(
  ranked: readonly T[],
  countOf: (model: T) => number,
  counted: string,
  listedIn: string,
): { shown: T[]; rest?: string } {
  const left = ranked.slice(BAR_ROWS);
  const shown = ranked.slice(0, BAR_ROWS);
  if (left.length === 0) return { shown };
  const total = left.reduce((sum, model) => sum + countOf(model), 0);
  return {
    shown,
    rest: `${formatCount(left.length)} more models, with ${formatCount(total)} ${counted}: ${listedIn}`,
  };
}

/**
 * Horizontal bars for categories: long labels stay readable and every value
 * is text. `rest` is a last line on the rows left out, if any.
 */
export function BarList({
  rows,
  marker,
  label,
  rest,
}: {
  rows: BarRow[];
  marker?: { at: number; label: string };
  label: string;
  rest?: string | undefined;
}) {
  return (
    <ul class="bar-list" aria-label={label}>
      {rows.map((row) => (
        <li key={row.label}>
          <span class="bar-label" title={row.label}>
            {row.label}
          </span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${Math.max(0, Math.min(1, row.fraction)) * 100}%` }} />
            {marker ? (
              <span class="bar-marker" style={{ left: `${marker.at * 100}%` }} title={marker.label} />
            ) : null}
          </span>
          <span class="bar-value">
            {row.valueText}
            {row.detail ? <span class="bar-detail"> {row.detail}</span> : null}
          </span>
        </li>
      ))}
      {rest ? <li class="bar-rest">{rest}</li> : null}
    </ul>
  );
}

/**
 * A component whose code is a lazy chunk: a skeleton while it loads, and a
 * retry when the fetch fails. `what` names it: "the {what} could not be loaded".
 */
export function lazyComponent<P extends object>(
  importer: () => Promise<ComponentType<P>>,
  what: string,
  height?: number,
) {
  return function Lazy(props: P) {
    const part = useLazy(importer);
    const Part = part.module;
    if (Part) return <Part {...props} />;
    if (part.failed) return <ErrorBox message={`The ${what} could not be loaded.`} onRetry={part.load} />;
    return <Skeleton height={height} label={`Loading the ${what}`} />;
  };
}

/**
 * The runs table (drill-down, most recent failing runs) is lazy, in the tabs'
 * chunk: it is below the fold or behind a click, so it never delays the first chart.
 */
export const RunsTable = lazyComponent<RunsTableProps>(
  () => import('./tabs/tab-chunk').then((m) => m.RunsTable),
  'runs table',
  120,
);
