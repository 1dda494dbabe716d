/**
 * The banner of `npm start`'s demo seed: its progress, polled from
 * GET /api/health (`local.seed`) every second until it is done. A lazy chunk,
 * fetched only when app.tsx has seen a seed running, so never when deployed.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatCount, formatPercent } from './format';

export interface SeedProgress {
  runsSent: number;
  runsTotal: number;
  done: boolean;
}

const POLL_MS = 1_000;

/** Polls until the seed is done, then calls `onDone` once (to reload the figures, now final) and goes. */
export function SeedBanner({ onDone }: { onDone: () => void }) {
  const [seed, setSeed] = useState<SeedProgress | null>(null);
  const [done, setDone] = useState(false);
  const onDoneRef = useRef(onDone);
  onDoneRef.current = onDone;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const poll = () =>
      fetch('/api/health', { cache: 'no-store' })
        .then((response) => (response.ok ? response.json() : null))
        .catch(() => null)
        .then((body: { local?: { seed?: SeedProgress | null } } | null) => {
          if (stopped) return;
          // A failed poll (no body) is tried again; an answer without a running seed ends the banner.
          const progress = body ? (body.local?.seed ?? null) : undefined;
          if (progress === null || progress?.done) {
            setDone(true);
            if (progress?.done) onDoneRef.current();
            return;
          }
          if (progress) setSeed(progress);
          timer = setTimeout(poll, POLL_MS);
        });
    poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  if (done) return null;
  const fraction = seed && seed.runsTotal > 0 ? seed.runsSent / seed.runsTotal : 0;
  return (
    <div class="seed-banner" data-seed-banner>
      {/* Only the steady sentence is live: a count announced every second would drown the page. */}
      <strong role="status">Demo data is still loading:</strong>{' '}
      {seed && seed.runsTotal > 0
        ? `${formatCount(seed.runsSent)} of ${formatCount(seed.runsTotal)} runs sent (${formatPercent(fraction, 0)}).`
        : 'preparing the runs.'}{' '}
      The figures grow until it finishes, then reload by themselves.
      <progress
        max={Math.max(1, seed?.runsTotal ?? 0)}
        value={seed?.runsSent ?? 0}
        aria-label="Demo data loaded"
      />
    </div>
  );
}
