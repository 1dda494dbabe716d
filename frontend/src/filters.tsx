/** The filter bar: range presets and calendar, models, status, time zone. Every control writes the URL. */

import { useState } from 'preact/hooks';
import type { ModelStats } from './api-types';
import type { CustomRangeProps } from './calendar';
import { useLazy } from './lazy';
import { RANGE_PRESETS, type ViewState } from './state';

const presetLabels = { '24h': '24 h', '7d': '7 d', '30d': '30 d', '90d': '90 d' } as const;

export interface FilterBarProps {
  view: ViewState;
  /** The range the view resolves to now, shown in the date inputs for presets. */
  resolved: { from: string; to: string };
  models: ModelStats[] | undefined;
  localZone: string;
  onChange: (next: Partial<ViewState>) => void;
}

/**
 * The custom range's date inputs are a lazy chunk, fetched when the viewer
 * asks for them (or opens a link with a custom range).
 */
function CustomRangeSlot(props: CustomRangeProps) {
  const calendar = useLazy(() => import('./calendar'), props.view.range === 'custom');
  if (calendar.module) return <calendar.module.CustomRange {...props} />;
  return (
    <button
      type="button"
      class="filter"
      disabled={!calendar.failed && props.view.range === 'custom'}
      onClick={calendar.load}
    >
      {calendar.failed ? 'Custom range could not load: retry' : 'Custom range…'}
    </button>
  );
}

/**
 * The zone: UTC and the browser's zone one click away, any other IANA zone
 * through a searchable list (a lazy chunk, fetched when first opened).
 */
function ZoneFilter({ view, localZone, onChange }: Pick<FilterBarProps, 'view' | 'localZone' | 'onChange'>) {
  const [open, setOpen] = useState(false);
  const picker = useLazy(() => import('./zone-picker'), false);
  const pick = (tz: string) => {
    setOpen(false);
    onChange({ tz });
  };
  const quick = localZone === 'UTC' ? ['UTC'] : ['UTC', localZone];
  return (
    <fieldset class={open ? 'filter zone-filter open' : 'filter zone-filter'}>
      <legend class="filter-label">Time zone</legend>
      <span class="zone" data-zone>
        {view.tz}
      </span>
      <span class="segmented">
        {quick.map((zone) => (
          <button
            type="button"
            key={zone}
            aria-pressed={view.tz === zone}
            onClick={() => pick(zone)}
            title={zone === localZone ? 'The zone of this browser' : undefined}
          >
            {zone === 'UTC' ? 'UTC' : `Browser (${zone.replace(/_/g, ' ')})`}
          </button>
        ))}
      </span>
      <button
        type="button"
        class="link-button"
        aria-expanded={open}
        onClick={() => {
          if (!open && !picker.module) picker.load();
          setOpen(!open);
        }}
      >
        {open && picker.failed ? 'Zone list could not load: retry' : 'Other zone…'}
      </button>
      {open && picker.module ? (
        <picker.module.ZonePicker value={view.tz} onPick={pick} onClose={() => setOpen(false)} />
      ) : null}
    </fieldset>
  );
}

/** Past this many models the list gets a filter field: a range may hold hundreds of them. */
const FILTER_MODELS_FROM = 12;

/** The model checkboxes; the selected ones stay listed whatever the filter. */
function ModelSelect({
  view,
  names,
  onToggle,
  onChange,
}: Pick<FilterBarProps, 'view' | 'onChange'> & {
  names: string[];
  onToggle: (name: string, checked: boolean) => void;
}) {
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const shown = names.filter((name) => view.models.includes(name) || name.toLowerCase().includes(needle));
  return (
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
        {names.length > FILTER_MODELS_FROM ? (
          <input
            type="search"
            aria-label={`Filter ${names.length} models`}
            placeholder={`Filter ${names.length} models`}
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
        ) : null}
        {names.length === 0 ? <p class="muted">No models in this range.</p> : null}
        {shown.map((name) => (
          <label key={name} class="check">
            <input
              type="checkbox"
              checked={view.models.includes(name)}
              onChange={(e) => onToggle(name, e.currentTarget.checked)}
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
  );
}

export function FilterBar({ view, resolved, models, localZone, onChange }: FilterBarProps) {
  const names = (models ?? []).map((m) => m.model);
  for (const selected of view.models) if (!names.includes(selected)) names.push(selected);
  const toggleModel = (name: string, checked: boolean) => {
    const next = checked ? [...view.models, name] : view.models.filter((m) => m !== name);
    onChange({ models: names.filter((m) => next.includes(m)) });
  };
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
      <CustomRangeSlot view={view} resolved={resolved} onChange={onChange} />
      <ModelSelect view={view} names={names} onToggle={toggleModel} onChange={onChange} />
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
      <ZoneFilter view={view} localZone={localZone} onChange={onChange} />
    </section>
  );
}
