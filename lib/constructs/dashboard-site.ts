import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { frontendDist } from '../paths';
import type { SignInConfig } from './reader-auth';

/** The runtime configuration the dashboard fetches from /config.json. */
interface DashboardRuntimeConfig {
  /** Base path of the API, same origin as the dashboard. */
  readonly apiBase: string;
  readonly stage: string;
  /** null when the stack was deployed with auth=none. */
  readonly auth: {
    readonly authority: string;
    readonly clientId: string;
    readonly scope: string;
    /** Path (on the dashboard's origin) the identity provider redirects back to. */
    readonly redirectPath: string;
  } | null;
}

/** Props of {@link DashboardSite}. */
export interface DashboardSiteProps {
  /** Domain name of the HTTP API's execute-api endpoint. */
  readonly apiDomain: string;
  /** Sign-in settings; undefined when auth is off. */
  readonly signIn?: SignInConfig;
  readonly stage: string;
  /** Keep the buckets (and their contents) when the stack is deleted. @default false */
  readonly protectBuckets?: boolean;
  /** Days access logs are kept. */
  readonly logRetentionDays: number;
  /** Custom domain of the dashboard; needs certificateArn. */
  readonly domainName?: string;
  /** ACM certificate (us-east-1) for domainName. */
  readonly certificateArn?: string;
  /** WAF WebACL (CLOUDFRONT scope) to attach. @default none */
  readonly webAclArn?: string;
}

/** Path the identity provider redirects to after sign-in: the SPA's root. */
const SIGN_IN_REDIRECT_PATH = '/';

/**
 * The dashboard at the edge: a private bucket behind CloudFront (Origin Access
 * Control), `/api/*` routed to the HTTP API uncached, security headers on every
 * response, and /config.json telling the SPA where to sign in.
 */
export class DashboardSite extends Construct {
  public readonly distribution: cloudfront.Distribution;
  public readonly bucket: s3.Bucket;
  /** https:// URL readers open (the custom domain when there is one). */
  public readonly url: string;
  /** Every https:// origin the dashboard is served from (sign-in redirect targets). */
  public readonly origins: string[];

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    const protect = props.protectBuckets ?? false;
    const removal = {
      removalPolicy: protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !protect,
    };

    const logBucket = new s3.Bucket(this, 'access-log-bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Log delivery (S3 server access logs, CloudFront standard logs) writes
      // only to SSE-S3 buckets; CloudFront standard logs also need ACLs.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays) }],
      ...removal,
    });

    this.bucket = new s3.Bucket(this, 'site-bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 'site-bucket/',
      versioned: false,
      ...removal,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'security-headers', {
      comment: 'Fixer agent metrics dashboard: CSP, HSTS, framing, sniffing, referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy(props.signIn?.connectOrigins ?? []),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });

    // The SPA has one page; paths without a file extension get index.html.
    // A viewer-request function does this instead of 403/404 error responses,
    // which CloudFront would also apply to /api/* and so turn the API's JSON
    // errors (401 from the authorizer, 404) into a 200 HTML page.
    const spaRewrite = new cloudfront.Function(this, 'spa-rewrite', {
      comment: 'Serves index.html for extensionless paths',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        [
          'function handler(event) {',
          '  var request = event.request;',
          "  if (!/\\.[a-zA-Z0-9]+$/.test(request.uri)) request.uri = '/index.html';",
          '  return request;',
          '}',
        ].join('\n'),
      ),
    });

    const certificate = props.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'certificate', props.certificateArn)
      : undefined;

    this.distribution = new cloudfront.Distribution(this, 'distribution', {
      comment: `Fixer agent metrics dashboard (${props.stage})`,
      defaultRootObject: 'index.html',
      domainNames: props.domainName ? [props.domainName] : undefined,
      certificate,
      // Only a custom certificate can carry a security policy; the default
      // *.cloudfront.net certificate's policy is fixed by CloudFront.
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      webAclId: props.webAclArn,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [
          { function: spaRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new HttpOrigin(props.apiDomain, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Every dashboard answer depends on the caller's token and on fresh data.
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // Forwards Authorization and the query string; the Host header must be
          // the API's own, or API Gateway rejects the request.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
    });

    this.url = `https://${props.domainName ?? this.distribution.distributionDomainName}`;
    this.origins = [`https://${this.distribution.distributionDomainName}`];
    if (props.domainName) this.origins.push(`https://${props.domainName}`);

    const runtimeConfig: DashboardRuntimeConfig = {
      apiBase: '/api',
      stage: props.stage,
      auth: props.signIn
        ? {
            authority: props.signIn.authority,
            clientId: props.signIn.clientId,
            scope: 'openid email profile',
            redirectPath: SIGN_IN_REDIRECT_PATH,
          }
        : null,
    };

    new s3deploy.BucketDeployment(this, 'deploy-dashboard', {
      // One deployment for both sources: a second one would be pruned by (or
      // prune) the first. Sources are unpacked in order, so this config.json
      // replaces the local-runtime one ({"auth": null}) that the build ships.
      sources: [dashboardSource(this), s3deploy.Source.jsonData('config.json', runtimeConfig)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
  }
}

/**
 * The CSP: only same-origin scripts, styles and connections, plus the
 * identity provider's origins for sign-in (discovery, token endpoint).
 */
function contentSecurityPolicy(connectOrigins: readonly string[]): string {
  const connect = ["'self'", ...connectOrigins].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}

/** The built dashboard, or a placeholder page (with a synth warning) when it has not been built. */
function dashboardSource(scope: Construct): s3deploy.ISource {
  const dist = frontendDist();
  if (dist) return s3deploy.Source.asset(dist);
  Annotations.of(scope).addWarningV2(
    'fixer:dashboard-not-built',
    'frontend/dist does not exist: deploying a placeholder page. Run `npm run build:frontend` before `cdk deploy`.',
  );
  return s3deploy.Source.data(
    'index.html',
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fixer agent metrics</title></head>' +
      '<body><p>The dashboard was not built before deployment. Run <code>npm run build:frontend</code>, then <code>cdk deploy</code> again.</p></body></html>',
  );
}
