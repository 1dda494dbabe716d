/** The filter bar: range presets and calendar, models, status, time zone. Every control writes the URL. */
import { useEffect, useState } from 'preact/hooks';
import type { ModelStats } from './api-types';
import { daysInclusive, isValidDate, MAX_RANGE_DAYS, RANGE_PRESETS, type ViewState } from './state';

const presetLabels = { '24h': '24 h', '7d': '7 d', '30d': '30 d', '90d': '90 d' } as const;

export interface FilterBarProps {
  view: ViewState;
  /** The range the view resolves to now, shown in the date inputs for presets. */
  resolved: { from: string; to: string };
  models: ModelStats[] | undefined;
  localZone: string;
  onChange: (next: Partial<ViewState>) => void;
}

export function FilterBar({ view, resolved, models, localZone, onChange }: FilterBarProps) {
  const [from, setFrom] = useState(view.from ?? resolved.from.slice(0, 10));
  const [to, setTo] = useState(view.to ?? resolved.to.slice(0, 10));
  useEffect(() => {
    setFrom(view.from ?? resolved.from.slice(0, 10));
    setTo(view.to ?? resolved.to.slice(0, 10));
  }, [view.from, view.to, resolved.from, resolved.to]);

  const customError =
    !isValidDate(from) || !isValidDate(to)
      ? 'Pick both dates.'
      : from > to
        ? 'The start must not be after the end.'
        : daysInclusive(from, to) > MAX_RANGE_DAYS
          ? `At most ${MAX_RANGE_DAYS} days.`
          : null;

  const applyCustom = (event: Event) => {
    event.preventDefault();
    if (!customError) onChange({ range: 'custom', from, to });
  };

  const names = (models ?? []).map((m) => m.model);
  for (const selected of view.models) if (!names.includes(selected)) names.push(selected);
  const toggleModel = (name: string, checked: boolean) => {
    const next = checked ? [...view.models, name] : view.models.filter((m) => m !== name);
    onChange({ models: names.filter((m) => next.includes(m)) });
  };
  const usingUtc = view.tz === 'UTC';

  return (
    <section class="filters" aria-label="Filters">
      <fieldset class="filter">
        <legend class="filter-label">Range</legend>
        <div class="segmented">
          {RANGE_PRESETS.map((preset) => (
            <button
              type="button"
              key={preset}
              aria-pressed={view.range === preset}
              onClick={() => onChange({ range: preset, from: undefined, to: undefined })}
            >
              {presetLabels[preset]}
            </button>
          ))}
        </div>
      </fieldset>
      <form class="filter custom-range" onSubmit={applyCustom} aria-label="Custom date range">
        <label>
          From <input type="date" value={from} max={to} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="date" value={to} min={from} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button
          type="submit"
          disabled={customError !== null}
          aria-pressed={view.range === 'custom'}
          title={customError ?? 'Show this range'}
        >
          Apply
        </button>
      </form>
      <details class="filter model-select">
        <summary>
          Models:{' '}
          {view.models.length === 0
            ? 'all'
            : view.models.length === 1
              ? view.models[0]
              : `${view.models.length} selected`}
        </summary>
        <fieldset>
          <legend class="sr-only">Models to include</legend>
          {names.length === 0 ? <p class="muted">No models in this range.</p> : null}
          {names.map((name) => (
            <label key={name} class="check">
              <input
                type="checkbox"
                checked={view.models.includes(name)}
                onChange={(e) => toggleModel(name, e.currentTarget.checked)}
              />{' '}
              {name}
            </label>
          ))}
          <button
            type="button"
            class="link-button"
            disabled={view.models.length === 0}
            onClick={() => onChange({ models: [] })}
          >
            All models
          </button>
        </fieldset>
      </details>
      <label class="filter">
        <span class="filter-label">Status</span>
        <select
          value={view.status}
          onChange={(e) => onChange({ status: e.currentTarget.value as ViewState['status'] })}
        >
          <option value="all">All runs</option>
          <option value="success">Successes only</option>
          <option value="failure">Failures only</option>
        </select>
      </label>
      <div class="filter">
        <span class="filter-label">Time zone</span>
        <span class="zone" data-zone>
          {view.tz}
        </span>
        <button
          type="button"
          class="link-button"
          onClick={() => onChange({ tz: usingUtc ? localZone : 'UTC' })}
        >
          {usingUtc ? (localZone === 'UTC' ? 'UTC is local' : `Use ${localZone}`) : 'Use UTC'}
        </button>
      </div>
    </section>
  );
}
