/** The custom date range of the filter bar: two date inputs and Apply. A lazy chunk (see filters.tsx). */
import { useEffect, useState } from 'preact/hooks';
import { daysInclusive, isValidDate, MAX_RANGE_DAYS, type ViewState } from './state';

export interface CustomRangeProps {
  view: ViewState;
  /** The range the view resolves to now, shown in the date inputs for presets. */
  resolved: { from: string; to: string };
  onChange: (next: Partial<ViewState>) => void;
}

export function CustomRange({ view, resolved, onChange }: CustomRangeProps) {
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

  return (
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
  );
}
