import { useLayoutEffect, useState } from 'preact/hooks';
import { apiGet } from './api';

export interface Loadable<T> {
  data?: T;
  error?: string;
  loading: boolean;
  retry: () => void;
}

/**
 * Loads `path` for one refresh generation. A new path clears the old data
 * (skeletons show); a new generation of the same path keeps it on screen
 * until the fresh answer arrives, so live mode never flickers. While `wait`
 * is true the request is held back (and reads as loading): requests that no
 * chart draws from wait for the one the charts need, so on two busy cores the
 * API answers that one alone first (docs/DASHBOARD.md, "What loads when").
 */
export function useApi<T>(path: string | null, generation: number, wait = false): Loadable<T> {
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<{ path: string | null; data?: T; error?: string; loading: boolean }>({
    path,
    loading: path !== null,
  });

  // A layout effect: the request leaves in the render's own task, not a frame later.
  useLayoutEffect(() => {
    if (path === null || wait) return;
    let current = true;
    setState((previous) =>
      previous.path === path && previous.data !== undefined
        ? { path, data: previous.data, loading: true }
        : { path, loading: true },
    );
    apiGet<T>(path, `${generation}.${attempt}`).then(
      (data) => current && setState({ path, data, loading: false }),
      (error: Error) => current && setState({ path, error: error.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, generation, attempt, wait]);

  const stale = state.path !== path;
  return {
    data: stale ? undefined : state.data,
    error: stale ? undefined : state.error,
    loading: path !== null && (stale || wait || state.loading),
    retry: () => setAttempt((n) => n + 1),
  };
}
