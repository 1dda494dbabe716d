/**
 * Reader sign-in. The deployment writes /config.json next to index.html; when
 * it names an OIDC authority the dashboard signs in with oidc-client-ts
 * (authorization code + PKCE) and sends the ID token to the API. Locally the
 * file is absent and nobody signs in. The library is loaded only when needed,
 * so it costs nothing against the bundle budget of a local run.
 */

interface AuthConfig {
  authority: string;
  clientId: string;
  /** Space-separated scopes; the stack writes `scope`, older configs `scopes`. */
  scope?: string;
  scopes?: string;
  /** Where the identity provider sends the browser back to. @default '/' */
  redirectPath?: string;
}

export interface Session {
  /** Who is signed in, for the header; null without auth. */
  userName: string | null;
  signOut: (() => void) | null;
}

let tokenSource: (() => Promise<string>) | null = null;
let reauthenticate: (() => Promise<void>) | null = null;
/** Settles once the session is known: API calls made before then wait for it rather than go unsigned. */
let sessionKnown: Promise<unknown> = Promise.resolve();

/** The bearer token for an API call, or null when auth is off. */
export async function bearerToken(): Promise<string | null> {
  await sessionKnown;
  return tokenSource ? tokenSource() : null;
}

/** Called on a 401: the session ended, so sign in again and come back to this view. */
export async function signInAgain(): Promise<void> {
  if (reauthenticate) await reauthenticate();
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

  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const origin = window.location.origin;
  const manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: `${origin}${config.redirectPath ?? '/'}`,
    post_logout_redirect_uri: `${origin}/`,
    response_type: 'code',
    scope: config.scope ?? config.scopes ?? 'openid email',
    // Session storage: a token must not outlive the tab on a shared machine.
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
  const redirect = () => manager.signinRedirect({ state: window.location.search });
  reauthenticate = async () => {
    await manager.removeUser();
    await redirect();
  };

  const params = new URLSearchParams(window.location.search);
  let user = null;
  if (params.has('code') && params.has('state')) {
    user = await manager.signinRedirectCallback();
    // The view the viewer asked for before the detour through the identity provider.
    const back = typeof user.state === 'string' ? user.state : '';
    window.history.replaceState(null, '', `/${back}`);
  } else {
    user = await manager.getUser();
  }
  if (!user || user.expired) {
    await redirect();
    return new Promise<Session>(() => {});
  }

  tokenSource = async () => {
    const current = await manager.getUser();
    if (!current || current.expired) {
      await redirect();
      throw new Error('Signing in again');
    }
    return current.id_token ?? current.access_token;
  };
  const profile = user.profile;
  return {
    userName: (profile.email as string | undefined) ?? profile.sub,
    signOut: () => {
      manager.signoutRedirect().catch(async () => {
        // Providers without an end-session endpoint: forget the local session instead.
        await manager.removeUser();
        window.location.reload();
      });
    },
  };
}
