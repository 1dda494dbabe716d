/**
 * The read-API client. Requests of one refresh are shared: tabs that need the
 * same timeseries get the same promise, and switching tabs within one refresh
 * costs no request.
 */
import { bearerToken, signInAgain } from './auth';

class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const MAX_CACHED = 40;
let lastSuccessAt = 0;
const listeners = new Set<(at: number) => void>();

/** Tells `listener` the time of every successful API answer, for "updated N s ago". */
export function onApiSuccess(listener: (at: number) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const cache = new Map<string, Promise<unknown>>();

/** A GET with the bearer token when auth is on; a failed answer throws an ApiError with the API's message. */
export async function authorizedFetch(url: string, signal?: AbortSignal): Promise<Response> {
  const token = await bearerToken();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: signal ?? null });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError('The API could not be reached. Check your connection.', 0);
  }
  if (response.status === 401) {
    await signInAgain();
    throw new ApiError('Your session has ended. Signing in again…', 401);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { message?: string };
      if (body.message) message = body.message;
    } catch {
      // Not JSON (a proxy's error page): the status line says enough.
    }
    throw new ApiError(message, response.status);
  }
  return response;
}

/**
 * GET a JSON resource. `generation` names one refresh of the dashboard: the
 * same URL within one generation is fetched once.
 */
export function apiGet<T>(path: string, generation: string | number): Promise<T> {
  const key = `${generation} ${path}`;
  let pending = cache.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = authorizedFetch(path).then((response) => {
      lastSuccessAt = Date.now();
      for (const listener of listeners) listener(lastSuccessAt);
      return response.json() as Promise<T>;
    });
    // A failed request must be retryable, so it leaves the cache.
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
    if (cache.size > MAX_CACHED) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  }
  return pending;
}
