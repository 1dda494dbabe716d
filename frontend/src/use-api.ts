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
  const request = `${generation}.${attempt}`;
  // `request`: the generation and attempt the state was last asked for.
  const [state, setState] = useState<{
    path: string | null;
    request: string;
    data?: T;
    error?: string;
    loading: boolean;
  }>({ path, request, loading: path !== null });

  // A layout effect: the request leaves in the render's own task, not a frame later.
  useLayoutEffect(() => {
    if (path === null || wait) return;
    let current = true;
    setState((previous) =>
      previous.path === path && previous.data !== undefined
        ? { path, request, data: previous.data, loading: true }
        : { path, request, loading: true },
    );
    apiGet<T>(path, request).then(
      (data) => current && setState({ path, request, data, loading: false }),
      (error: Error) => current && setState({ path, request, error: error.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [path, request, wait]);

  const stale = state.path !== path;
  return {
    data: stale ? undefined : state.data,
    error: stale ? undefined : state.error,
    // Loading from the very render that brings a new generation, not from the
    // effect's setState after it: requests waiting on this one (`wait`) read
    // it in that same render, and would otherwise leave beside it.
    loading: path !== null && (stale || wait || state.loading || state.request !== request),
    retry: () => setAttempt((n) => n + 1),
  };
}
