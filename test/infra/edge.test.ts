import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synth } from './synth';

const distributionConfig = (context: Record<string, unknown> = {}) => {
  const distributions = synth(context).template.findResources('AWS::CloudFront::Distribution');
  expect(Object.keys(distributions)).toHaveLength(1);
  return Object.values(distributions)[0]!.Properties.DistributionConfig;
};

const securityHeaders = (context: Record<string, unknown> = {}) => {
  const policies = synth(context).template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
  expect(Object.keys(policies)).toHaveLength(1);
  return Object.values(policies)[0]!.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
};

/** The CSP as a string, with CloudFormation joins flattened to `<token>` placeholders. */
const csp = (context: Record<string, unknown> = {}): string => {
  const value = securityHeaders(context).ContentSecurityPolicy.ContentSecurityPolicy;
  if (typeof value === 'string') return value;
  return (value['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : '<token>'))
    .join('');
};

describe('site bucket', () => {
  it('is private, encrypted, SSL-only and logs access', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('dashboardaccesslogbucket') },
        LogFilePrefix: 'site-bucket/',
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('dashboardsitebucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // Only CloudFront, through Origin Access Control, may read.
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('is reached through Origin Access Control', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: {
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    });
    const origins = distributionConfig().Origins as {
      S3OriginConfig?: unknown;
      OriginAccessControlId?: unknown;
    }[];
    expect(origins.filter((o) => o.OriginAccessControlId)).toHaveLength(1);
  });

  it('is retained in prod and emptied and deleted in dev', () => {
    const siteBucket = (stage: string) =>
      Object.entries(synth({ stage }).template.findResources('AWS::S3::Bucket')).find(([id]) =>
        id.startsWith('dashboardsitebucket'),
      )![1];
    expect(siteBucket('prod').DeletionPolicy).toBe('Retain');
    expect(siteBucket('dev').DeletionPolicy).toBe('Delete');
  });
});

describe('distribution', () => {
  it('serves index.html at the root and redirects HTTP to HTTPS', () => {
    const config = distributionConfig();
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  it('routes /api/* to the HTTP API uncached, with every method and all viewer headers but Host', () => {
    const config = distributionConfig();
    const api = (config.CacheBehaviors as Record<string, unknown>[]).find((b) => b.PathPattern === '/api/*')!;
    expect(api).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
      ViewerProtocolPolicy: 'https-only',
    });
    const origin = (
      config.Origins as { Id: string; DomainName: unknown; CustomOriginConfig?: unknown }[]
    ).find((o) => o.Id === api.TargetOriginId)!;
    expect(JSON.stringify(origin.DomainName)).toMatch(/apihttpapi.*execute-api/);
    expect(origin.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'https-only',
      OriginSSLProtocols: ['TLSv1.2'],
    });
  });

  it('rewrites extensionless paths to index.html with a function, not with error responses that would mask API errors', () => {
    const config = distributionConfig();
    expect(config.CustomErrorResponses).toBeUndefined();
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([
      {
        EventType: 'viewer-request',
        FunctionARN: { 'Fn::GetAtt': [expect.stringMatching(/dashboardsparewrite/), 'FunctionARN'] },
      },
    ]);
  });

  it('logs requests to the access-log bucket', () => {
    expect(distributionConfig().Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [expect.stringMatching(/dashboardaccesslogbucket/), 'RegionalDomainName'] },
      Prefix: 'cloudfront/',
    });
  });

  it('uses the custom domain and certificate from context with TLS 1.2 at least', () => {
    const config = distributionConfig({
      domainName: 'metrics.example.com',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    });
    expect(config.Aliases).toEqual(['metrics.example.com']);
    expect(config.ViewerCertificate).toEqual({
      AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      MinimumProtocolVersion: 'TLSv1.2_2021',
      SslSupportMethod: 'sni-only',
    });
  });

  it('attaches a WAF WebACL from context', () => {
    const arn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/metrics/abc';
    expect(distributionConfig({ webAclArn: arn }).WebACLId).toBe(arn);
  });
});

describe('security headers', () => {
  it('applies one response headers policy to the site and the API', () => {
    const config = distributionConfig();
    const policy = config.DefaultCacheBehavior.ResponseHeadersPolicyId;
    expect(policy).toEqual({ Ref: expect.stringMatching(/dashboardsecurityheaders/) });
    for (const behavior of config.CacheBehaviors) expect(behavior.ResponseHeadersPolicyId).toEqual(policy);
  });

  it('sends HSTS for two years, frame DENY, nosniff and a strict referrer policy', () => {
    expect(securityHeaders()).toMatchObject({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ContentTypeOptions: { Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
    });
  });

  it('sends a CSP without inline scripts that forbids framing', () => {
    const policy = csp();
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("object-src 'none'");
  });

  it('lets the dashboard connect to Cognito for sign-in', () => {
    expect(csp()).toMatch(
      /connect-src 'self' https:\/\/cognito-idp\.<token>\.<token> https:\/\/<token>\.auth\.<token>\.amazoncognito\.com;/,
    );
  });

  it('lets the dashboard connect to the external issuer with auth=oidc', () => {
    const policy = csp({
      auth: 'oidc',
      oidcIssuer: 'https://login.example.com/tenant/v2',
      oidcAudience: 'metrics',
    });
    expect(policy).toContain("connect-src 'self' https://login.example.com;");
  });

  it('allows only the own origin with auth=none', () => {
    expect(csp({ auth: 'none' })).toContain("connect-src 'self';");
  });
});

describe('dashboard deployment', () => {
  const deployment = (context: Record<string, unknown> = {}) => {
    const resources = synth(context).template.findResources('Custom::CDKBucketDeployment');
    expect(Object.keys(resources)).toHaveLength(1);
    return Object.values(resources)[0]!.Properties;
  };

  it('ships the dashboard and config.json in one deployment and invalidates the cache', () => {
    const props = deployment();
    expect(props.SourceObjectKeys).toHaveLength(2);
    expect(props.DestinationBucketName).toEqual({ Ref: expect.stringMatching(/dashboardsitebucket/) });
    expect(props.DistributionPaths).toEqual(['/*']);
  });

  it('tells the dashboard where to sign in through config.json', () => {
    const markers = JSON.stringify(deployment().SourceMarkers);
    expect(markers).toMatch(/readerauthuserpooldashboardclient/);
    expect(markers).toMatch(/readerauthuserpool/);
  });

  it('writes auth: null into config.json with auth=none', () => {
    const { stack } = synth({ auth: 'none' });
    expect(stack.auth.signIn).toBeUndefined();
    expect(JSON.stringify(deployment({ auth: 'none' }).SourceMarkers ?? [])).not.toMatch(/userpool/);
  });
});
