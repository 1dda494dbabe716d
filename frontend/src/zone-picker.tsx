/**
 * The searchable list of IANA zones, opened from the filter bar's "Other
 * zone…". A lazy chunk: most visits never open it. A combobox (ARIA 1.2):
 * focus stays in the search box, the arrows move the active option, Enter
 * picks it, Escape closes.
 */
import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import { allZones, matchZones, zoneOffset } from './zones';

/** Options drawn at once; typing narrows the rest (400-odd zones, each with its offset). */
const SHOWN = 60;

export interface ZonePickerProps {
  value: string;
  onPick: (zone: string) => void;
  onClose: () => void;
}

export function ZonePicker({ value, onPick, onClose }: ZonePickerProps) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const zones = useMemo(() => allZones(), []);
  const [query, setQuery] = useState('');
  const matches = useMemo(() => matchZones(zones, query), [zones, query]);
  const shown = matches.slice(0, SHOWN);
  const [active, setActive] = useState(0);
  const now = useMemo(() => Date.now(), []);

  useEffect(() => inputRef.current?.focus(), []);
  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    listRef.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [active, query]);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown') setActive(Math.min(shown.length - 1, active + 1));
    else if (event.key === 'ArrowUp') setActive(Math.max(0, active - 1));
    else if (event.key === 'PageDown') setActive(Math.min(shown.length - 1, active + 10));
    else if (event.key === 'PageUp') setActive(Math.max(0, active - 10));
    else if (event.key === 'Enter') {
      const zone = shown[active];
      if (zone) onPick(zone);
    } else if (event.key === 'Escape') onClose();
    else return;
    event.preventDefault();
  };

  const optionId = (index: number) => `${id}-zone-${index}`;
  const more = matches.length - shown.length;
  return (
    <div class="zone-picker">
      <label class="filter-label" for={`${id}-search`}>
        Search time zones
      </label>
      <input
        ref={inputRef}
        id={`${id}-search`}
        type="search"
        // biome-ignore lint/a11y/noRedundantRoles: no datalist is rendered (list is undefined), so without it the role would be searchbox.
        role="combobox"
        // Preact types a combobox input as needing `list`; the options are our listbox, not a datalist.
        list={undefined}
        autocomplete="off"
        spellcheck={false}
        placeholder="City or region, e.g. Tokyo"
        aria-expanded="true"
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={shown.length > 0 ? optionId(active) : undefined}
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={onKeyDown}
      />
      <div ref={listRef} id={`${id}-list`} role="listbox" aria-label="Time zones" class="zone-list">
        {shown.map((zone, index) => (
          <div
            key={zone}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            aria-current={zone === value ? 'true' : undefined}
            data-zone-option={zone}
            // mousedown would blur the search box first; click is enough as nothing closes on blur.
            onClick={() => onPick(zone)}
            onKeyDown={(event) => event.key === 'Enter' && onPick(zone)}
            onMouseMove={() => index !== active && setActive(index)}
            // Reached by the arrows from the search box (aria-activedescendant), not by Tab.
            tabIndex={-1}
          >
            <span>{zone.replace(/_/g, ' ')}</span>
            <span class="zone-offset">{zoneOffset(zone, now)}</span>
          </div>
        ))}
      </div>
      <p class="hint" role="status">
        {matches.length === 0
          ? 'No zone matches.'
          : more > 0
            ? `${matches.length} zones match; the first ${SHOWN} are listed, type to narrow.`
            : `${matches.length} ${matches.length === 1 ? 'zone matches' : 'zones match'}.`}{' '}
        <button type="button" class="link-button" onClick={onClose}>
          Close
        </button>
      </p>
    </div>
  );
}
