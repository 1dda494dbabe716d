/** Code loaded on first use: the drill-down, the runs table, the custom range, the CSV writer. */
import { useEffect, useState } from 'preact/hooks';

export interface Lazy<T> {
  /** The loaded module; null until then. */
  module: T | null;
  failed: boolean;
  /** Loads it (again, after a failure). */
  load: () => void;
}

/** Imports a lazy chunk once `wanted` (at once by default), with a retry after a failed fetch. */
export function useLazy<T>(importer: () => Promise<T>, wanted = true): Lazy<T> {
  const [attempt, setAttempt] = useState(wanted ? 1 : 0);
  const [module, setModule] = useState<{ value: T } | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (attempt > 0)
      importer().then(
        (value) => setModule({ value }),
        () => setFailed(true),
      );
  }, [attempt]);
  return {
    module: module?.value ?? null,
    failed,
    load: () => {
      setFailed(false);
      setAttempt((n) => n + 1);
    },
  };
}
