/**
 * Sign-in with oidc-client-ts (authorization code + PKCE), for a deployment
 * whose /config.json names an OIDC authority. A lazy chunk, together with the
 * library: auth.ts imports it only when auth is configured.
 */
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { Session } from './auth';

export interface AuthConfig {
  authority: string;
  clientId: string;
  /** Space-separated scopes; the stack writes `scope`, older configs `scopes`. */
  scope?: string;
  scopes?: string;
  /** Where the identity provider sends the browser back to. @default '/' */
  redirectPath?: string;
}

export interface SignedIn {
  session: Session;
  /** The ID token (or access token) for an API call; redirects to sign in when it has expired. */
  token: () => Promise<string>;
  /** Forgets the session and signs in again, back to this view. */
  reauthenticate: () => Promise<void>;
}

/** With nobody signed in it redirects to the identity provider and never resolves. */
export async function signIn(config: AuthConfig): Promise<SignedIn> {
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
    return new Promise<SignedIn>(() => {});
  }

  const profile = user.profile;
  return {
    session: {
      userName: (profile.email as string | undefined) ?? profile.sub,
      signOut: () => {
        manager.signoutRedirect().catch(async () => {
          // Providers without an end-session endpoint: forget the local session instead.
          await manager.removeUser();
          window.location.reload();
        });
      },
    },
    token: async () => {
      const current = await manager.getUser();
      if (!current || current.expired) {
        await redirect();
        throw new Error('Signing in again');
      }
      return current.id_token ?? current.access_token;
    },
    reauthenticate: async () => {
      await manager.removeUser();
      await redirect();
    },
  };
}
