/** The dashboard shell: header, alarm banner, filters, tabs and the drill-down. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { onApiSuccess } from './api';
import type { AlarmResponse, Bucket, Granularity, ModelsResponse, Summary } from './api-types';
import type { Session } from './auth';
import type { DrillDownProps } from './drilldown';
import { FilterBar } from './filters';
import { browserZone, formatAgo, formatCount, formatPercent } from './format';
import { useLazy } from './lazy';
import { filterWarnings } from './literacy';
import type { SeedProgress } from './seed-banner';
import {
  apiParams,
  parseViewState,
  resolveRange,
  serializeViewState,
  TABS,
  type Tab,
  type ViewState,
} from './state';
import { EfficiencyTab, ErrorsTab } from './tabs/lazy-tabs';
import { OverviewTab } from './tabs/overview';
import { type TabProps, useTimeseries } from './tabs/shared';
import { applyTheme, palettes, rememberTheme, storedTheme, systemTheme, type Theme } from './theme';
import { useApi } from './use-api';

const LIVE_INTERVAL_MS = 30_000;
const tabLabels: Record<Tab, string> = { overview: 'Overview', efficiency: 'Efficiency', errors: 'Errors' };

function useViewState(localZone: string) {
  const [view, setView] = useState(() => parseViewState(window.location.search, localZone));
  useEffect(() => {
    // The canonical URL from the start, so a shared link carries every filter.
    window.history.replaceState(null, '', serializeViewState(view));
    const onPop = () => setView(parseViewState(window.location.search, localZone));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((change: Partial<ViewState>) => {
    setView((current) => {
      const next = { ...current, ...change };
      if (next.range !== 'custom') {
        delete next.from;
        delete next.to;
      }
      const search = serializeViewState(next);
      if (search !== window.location.search) window.history.pushState(null, '', search);
      return next;
    });
  }, []);
  return [view, update] as const;
}

function useTheme() {
  const [theme, setTheme] = useState<Theme>(() => storedTheme() ?? systemTheme());
  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => {
    if (storedTheme()) return;
    // Until the viewer picks a theme, follow the system's as it changes.
    const query = matchMedia('(prefers-color-scheme: dark)');
    const follow = () => !storedTheme() && setTheme(query.matches ? 'dark' : 'light');
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    rememberTheme(next);
    // At once, not in the next effect: the page turns with the click.
    applyTheme(next);
    setTheme(next);
  };
  return [theme, toggle] as const;
}

function UpdatedAgo() {
  const [updatedAt, setUpdatedAt] = useState(0);
  const [now, setNow] = useState(Date.now());
  useEffect(() => onApiSuccess(setUpdatedAt), []);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <span class="updated">{updatedAt ? formatAgo(now - updatedAt) : 'loading…'}</span>;
}

function AlarmBanner({ alarm }: { alarm: AlarmResponse | undefined }) {
  if (alarm?.state !== 'ALARM') return null;
  return (
    <div class="alarm" role="alert">
      <strong>Alarm:</strong> the success rate over the last {alarm.windowMinutes} minutes is{' '}
      <strong>{formatPercent(alarm.successRate)}</strong> across {formatCount(alarm.executions)} runs, below
      the {formatPercent(alarm.threshold, 0)} paging threshold.
    </div>
  );
}

/**
 * The demo seed of `npm start`, while it runs. The local runtime reports it in
 * GET /api/health as `local.seed`; a deployed health answer has no `local`,
 * so there this one request finds nothing and the banner's code is never
 * fetched. Returns the banner's module once a running seed is seen.
 */
function useSeedBanner(wait: boolean): typeof import('./seed-banner') | null {
  const [banner, setBanner] = useState<typeof import('./seed-banner') | null>(null);
  const asked = useRef(false);
  useEffect(() => {
    // Once, after the first chart's data (see waitForCharts).
    if (wait || asked.current) return;
    asked.current = true;
    fetch('/api/health', { cache: 'no-store' })
      .then((response) => response.json())
      .then((body: { local?: { seed?: SeedProgress | null } }) => {
        const seed = body.local?.seed;
        if (seed && !seed.done) return import('./seed-banner').then(setBanner);
      })
      .catch(() => {});
  }, [wait]);
  return banner;
}

/**
 * The drill-down is opened by a click, not on first paint, so its code is a
 * lazy chunk fetched on the first click (and cached by the browser after).
 */
function LazyDrillDown(props: DrillDownProps) {
  const drillDown = useLazy(() => import('./drilldown'));
  if (drillDown.module) return <drillDown.module.DrillDown {...props} />;
  return drillDown.failed ? (
    <div class="alarm" role="alert">
      The run list could not be loaded.{' '}
      <button type="button" class="link-button" onClick={drillDown.load}>
        Retry
      </button>{' '}
      <button type="button" class="link-button" onClick={props.onClose}>
        Close
      </button>
    </div>
  ) : null;
}

function Tabs({ tab, onSelect }: { tab: Tab; onSelect: (tab: Tab) => void }) {
  const refs = useRef<Partial<Record<Tab, HTMLButtonElement | null>>>({});
  const onKeyDown = (event: KeyboardEvent) => {
    const index = TABS.indexOf(tab);
    let next: Tab | undefined;
    if (event.key === 'ArrowRight') next = TABS[(index + 1) % TABS.length];
    else if (event.key === 'ArrowLeft') next = TABS[(index + TABS.length - 1) % TABS.length];
    else if (event.key === 'Home') next = TABS[0];
    else if (event.key === 'End') next = TABS[TABS.length - 1];
    if (!next) return;
    event.preventDefault();
    onSelect(next);
    refs.current[next]?.focus();
  };
  return (
    <div class="tabs" role="tablist" aria-label="Dashboard sections" onKeyDown={onKeyDown}>
      {TABS.map((name) => (
        <button
          key={name}
          ref={(element) => {
            refs.current[name] = element;
          }}
          type="button"
          role="tab"
          id={`tab-${name}`}
          aria-selected={tab === name}
          aria-controls="tab-panel"
          tabIndex={tab === name ? 0 : -1}
          onClick={() => onSelect(name)}
        >
          {tabLabels[name]}
        </button>
      ))}
    </div>
  );
}

export function App({ session: signIn }: { session: Promise<Session> }) {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    signIn.then(setSession, () => {});
  }, [signIn]);
  const localZone = browserZone;
  const [view, update] = useViewState(localZone);
  const [theme, toggleTheme] = useTheme();
  const [generation, setGeneration] = useState(1);
  const [drill, setDrill] = useState<{ bucket: Bucket; granularity: Granularity } | null>(null);

  useEffect(() => {
    if (!view.live) return;
    const timer = setInterval(() => setGeneration((n) => n + 1), LIVE_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [view.live]);

  // Presets are relative to now: recomputed on each refresh so live mode rolls forward.
  // generation is the clock tick that moves "now".
  const { query, range } = useMemo(() => {
    const now = new Date();
    return { query: apiParams(view, now).toString(), range: resolveRange(view, now) };
  }, [view, generation]);

  // Every tab's first chart draws from the view's timeseries: asked for here, before a lazy
  // tab's code has loaded, and alone: the other requests wait until it has answered.
  const waitForCharts = useTimeseries({ query, generation }).loading;
  const seedBanner = useSeedBanner(waitForCharts);
  const alarm = useApi<AlarmResponse>('/api/alarm', generation, waitForCharts);
  // Every model in the range (no model filter): the options of the model picker and the rows of the table.
  const modelQuery = new URLSearchParams(query);
  modelQuery.delete('model');
  const models = useApi<ModelsResponse>(`/api/models?${modelQuery}`, generation, waitForCharts);
  const summary = useApi<Summary>(`/api/summary?${query}`, generation, waitForCharts);
  const warnings = filterWarnings(view, summary.data);

  const tabProps: TabProps = {
    view,
    query,
    range,
    generation,
    waitForCharts,
    palette: palettes[theme],
    onPick: (bucket, granularity) => setDrill({ bucket, granularity }),
  };

  return (
    <>
      <a class="skip" href="#tab-panel">
        Skip to the charts
      </a>
      <header class="top">
        <h1>Fixer Agent Metrics</h1>
        <div class="top-actions">
          <label class="live">
            <input
              type="checkbox"
              checked={view.live}
              onChange={(e) => update({ live: e.currentTarget.checked })}
            />{' '}
            Live
          </label>
          <UpdatedAgo />
          <button type="button" onClick={() => setGeneration((n) => n + 1)}>
            Refresh
          </button>
          <button type="button" onClick={toggleTheme} aria-pressed={theme === 'dark'} data-theme-toggle>
            {theme === 'dark' ? 'Light mode' : 'Dark mode'}
          </button>
          {session?.userName ? (
            <span class="user">
              {session.userName}{' '}
              <button type="button" class="link-button" onClick={() => session.signOut?.()}>
                Sign out
              </button>
            </span>
          ) : null}
        </div>
      </header>
      <AlarmBanner alarm={alarm.data} />
      {seedBanner ? <seedBanner.SeedBanner onDone={() => setGeneration((n) => n + 1)} /> : null}
      <FilterBar
        view={view}
        resolved={range}
        models={models.data?.models}
        localZone={localZone}
        onChange={update}
      />
      {warnings.length > 0 ? (
        <ul class="warnings" aria-label="What these numbers leave out">
          {warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      ) : null}
      <Tabs tab={view.tab} onSelect={(tab) => update({ tab })} />
      <main>
        <div id="tab-panel" role="tabpanel" aria-labelledby={`tab-${view.tab}`} tabIndex={-1}>
          {view.tab === 'overview' ? <OverviewTab {...tabProps} /> : null}
          {view.tab === 'efficiency' ? <EfficiencyTab {...tabProps} models={models} /> : null}
          {view.tab === 'errors' ? <ErrorsTab {...tabProps} /> : null}
        </div>
      </main>
      {drill ? (
        <LazyDrillDown
          key={drill.bucket.start}
          bucket={drill.bucket}
          granularity={drill.granularity}
          query={query}
          timeZone={view.tz}
          onClose={() => setDrill(null)}
        />
      ) : null}
    </>
  );
}
