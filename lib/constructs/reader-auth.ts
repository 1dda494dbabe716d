import { Aws, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { AuthMode } from '../config';

/** Props of {@link ReaderAuth}. */
export interface ReaderAuthProps {
  /** Where readers' identities come from; `none` leaves the read API open. */
  readonly mode: AuthMode;
  /** Deployment stage, part of the default Cognito domain prefix. */
  readonly stage: string;
  /** Keep the user pool (and its users) when the stack is deleted. @default false */
  readonly protectUsers?: boolean;
  /**
   * Prefix of the Cognito hosted sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`).
   * @default `fixer-metrics-<stage>-<account id>`
   */
  readonly cognitoDomainPrefix?: string;
  /** Issuer of the external OIDC provider; required with mode `oidc`. */
  readonly oidcIssuer?: string;
  /** Audience the JWT authorizer accepts; required with mode `oidc`. */
  readonly oidcAudience?: string;
  /**
   * OAuth client id of the dashboard at the external provider.
   * @default oidcAudience
   */
  readonly oidcClientId?: string;
}

/** What the dashboard needs to sign a reader in (written to /config.json). */
export interface SignInConfig {
  /** OIDC authority (issuer URL) for oidc-client-ts. */
  readonly authority: string;
  readonly clientId: string;
  /** Origins the browser must be allowed to connect to for sign-in (CSP connect-src). */
  readonly connectOrigins: string[];
}

/**
 * Reader authentication for the dashboard API: a Cognito user pool made here
 * (default), an existing OIDC provider, or nothing at all.
 */
export class ReaderAuth extends Construct {
  /** The JWT authorizer for GET /api/*, or undefined when auth is off. */
  public readonly authorizer?: IHttpRouteAuthorizer;
  /** Sign-in settings for the dashboard, or undefined when auth is off. */
  public readonly signIn?: SignInConfig;
  public readonly userPool?: cognito.UserPool;
  public readonly userPoolClient?: cognito.UserPoolClient;
  private readonly callbackUrls: string[] = [];

  constructor(scope: Construct, id: string, props: ReaderAuthProps) {
    super(scope, id);
    if (props.mode === 'none') return;

    if (props.mode === 'oidc') {
      const issuer = props.oidcIssuer!;
      const audience = props.oidcAudience!;
      this.authorizer = new HttpJwtAuthorizer('oidc-authorizer', issuer, { jwtAudience: [audience] });
      this.signIn = {
        authority: issuer,
        clientId: props.oidcClientId ?? audience,
        connectOrigins: [new URL(issuer).origin],
      };
      return;
    }

    const region = Stack.of(this).region;
    this.userPool = new cognito.UserPool(this, 'user-pool', {
      // Readers are invited by an administrator; nobody signs themselves up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Cost figures and error messages are internal data: a stolen password
      // alone must not be enough. TOTP only, so no SMS role or spend is needed.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.ESSENTIALS,
      deletionProtection: props.protectUsers ?? false,
      removalPolicy: props.protectUsers ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const domainPrefix = props.cognitoDomainPrefix ?? `fixer-metrics-${props.stage}-${Aws.ACCOUNT_ID}`;
    const domain = this.userPool.addDomain('hosted-ui', { cognitoDomain: { domainPrefix } });

    // A public client (no secret: a browser cannot keep one) that may only use
    // the authorization-code flow; the dashboard adds PKCE (oidc-client-ts does
    // by default), so an intercepted code is useless.
    this.userPoolClient = this.userPool.addClient('dashboard-client', {
      generateSecret: false,
      authFlows: {},
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: this.lazyCallbackUrls(),
        logoutUrls: this.lazyCallbackUrls(),
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
    });

    // Only the hosted sign-in (code flow) and refresh: with no flow listed,
    // Cognito would also allow SRP and custom sign-in straight from an SDK.
    (this.userPoolClient.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = [
      'ALLOW_REFRESH_TOKEN_AUTH',
    ];

    const issuer = `https://cognito-idp.${region}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;
    // Cognito access tokens carry the app client id in `client_id` (no `aud`);
    // the HTTP API JWT authorizer checks either claim against this audience.
    this.authorizer = new HttpJwtAuthorizer('cognito-authorizer', issuer, {
      jwtAudience: [this.userPoolClient.userPoolClientId],
    });
    this.signIn = {
      authority: issuer,
      clientId: this.userPoolClient.userPoolClientId,
      connectOrigins: [`https://cognito-idp.${region}.${Aws.URL_SUFFIX}`, domain.baseUrl()],
    };
  }

  /**
   * Registers a dashboard origin (e.g. the CloudFront URL) as an allowed
   * sign-in redirect. Called once the distribution exists.
   */
  addDashboardUrl(url: string): void {
    this.callbackUrls.push(url);
  }

  private lazyCallbackUrls(): string[] {
    // Resolved at synthesis, after the dashboard construct has added its URLs.
    return Lazy.list({ produce: () => this.callbackUrls });
  }
}
