/**
 * Reader sign-in. The deployment writes /config.json next to index.html; when
 * it names an OIDC authority the dashboard signs in (oidc-session.ts, loaded
 * with oidc-client-ts only then) and sends the ID token to the API. Locally
 * the file is absent, nobody signs in and none of that code is fetched.
 */
import type { AuthConfig, SignedIn } from './oidc-session';

export interface Session {
  /** Who is signed in, for the header; null without auth. */
  userName: string | null;
  signOut: (() => void) | null;
}

let signedIn: SignedIn | null = null;
/** Settles once the session is known: API calls made before then wait for it rather than go unsigned. */
let sessionKnown: Promise<unknown> = Promise.resolve();

/** The bearer token for an API call, or null when auth is off. */
export async function bearerToken(): Promise<string | null> {
  await sessionKnown;
  return signedIn ? signedIn.token() : null;
}

/** Called on a 401: the session ended, so sign in again and come back to this view. */
export async function signInAgain(): Promise<void> {
  await signedIn?.reauthenticate();
}

async function loadConfig(): Promise<AuthConfig | null> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (!response.ok) return null;
    const config = (await response.json()) as { auth?: AuthConfig | null };
    return config.auth?.authority && config.auth.clientId ? config.auth : null;
  } catch {
    return null;
  }
}

/**
 * Resolves with the session once the viewer may see data. With auth on and
 * nobody signed in it redirects to the identity provider and never resolves.
 * API calls may be made at once: they wait for it.
 */
export function startSession(): Promise<Session> {
  const session = openSession();
  sessionKnown = session;
  return session;
}

async function openSession(): Promise<Session> {
  const config = await loadConfig();
  if (!config) return { userName: null, signOut: null };
  const { signIn } = await import('./oidc-session');
  signedIn = await signIn(config);
  return signedIn.session;
}
