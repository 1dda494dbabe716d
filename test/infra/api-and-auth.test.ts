import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readRoutes } from '../../lib/constructs/metrics-api';
import { synth } from './synth';

/** Route key → authorization type of every route of the HTTP API. */
function authorizationByRoute(template: Template): Record<string, string> {
  const routes = template.findResources('AWS::ApiGatewayV2::Route');
  return Object.fromEntries(
    Object.values(routes).map((r) => [
      r.Properties.RouteKey as string,
      r.Properties.AuthorizationType as string,
    ]),
  );
}

const readRouteKeys = readRoutes.map((path) => `GET ${path}`);

describe('HTTP API routes', () => {
  it('serves exactly the routes of API.md', () => {
    expect(Object.keys(authorizationByRoute(synth().template)).sort()).toEqual(
      ['POST /api/executions', 'POST /v1/traces', 'GET /api/health', ...readRouteKeys].sort(),
    );
  });

  it('requires SigV4 (IAM) on POST /api/executions and POST /v1/traces and leaves GET /api/health open', () => {
    const auth = authorizationByRoute(synth().template);
    expect(auth['POST /api/executions']).toBe('AWS_IAM');
    expect(auth['POST /v1/traces']).toBe('AWS_IAM');
    expect(auth['GET /api/health']).toBe('NONE');
  });

  it('routes ingest to the ingest function and every GET to the query function', () => {
    const { template } = synth();
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const targetOf = (routeKey: string) => {
      const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find(
        (r) => r.Properties.RouteKey === routeKey,
      )!;
      const integrationId = (route.Properties.Target['Fn::Join'][1][1] as { Ref: string }).Ref;
      return JSON.stringify(integrations[integrationId]!.Properties.IntegrationUri);
    };
    expect(targetOf('POST /api/executions')).toMatch(/apiingest/);
    expect(targetOf('POST /v1/traces')).toMatch(/apiingest/);
    for (const key of ['GET /api/health', ...readRouteKeys]) expect(targetOf(key)).toMatch(/apiquery/);
  });

  it('throttles the stage with sane defaults', () => {
    synth().template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('throttles the stage with the rate and burst from context', () => {
    synth({ throttleRateLimit: '7', throttleBurstLimit: 13 }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::Stage',
      { DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 13 } },
    );
  });

  it('throttles ingest, each read route and the open health route apart, with the documented defaults', () => {
    const { template } = synth();
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    const limit = (rate: number, burst: number) => ({
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
    });
    expect(stage.Properties.RouteSettings).toEqual({
      'POST /api/executions': limit(50, 100),
      'POST /v1/traces': limit(50, 100),
      'GET /api/health': limit(2, 5),
      ...Object.fromEntries(readRouteKeys.map((key) => [key, limit(10, 20)])),
    });
    // Every key names a route of the API, and the stage waits for the routes.
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keys = Object.values(routes).map((r) => r.Properties.RouteKey);
    expect(Object.keys(stage.Properties.RouteSettings).sort()).toEqual([...keys].sort());
    for (const id of Object.keys(routes)) expect(stage.DependsOn).toContain(id);
  });

  it('takes the limits of each route group from context', () => {
    const stage = Object.values(
      synth({
        ingestRateLimit: '200',
        ingestBurstLimit: 400,
        readRateLimit: 3,
        readBurstLimit: 6,
        healthRateLimit: 1,
        healthBurstLimit: 1,
      }).template.findResources('AWS::ApiGatewayV2::Stage'),
    )[0]!;
    expect(stage.Properties.RouteSettings).toMatchObject({
      'POST /api/executions': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      'GET /api/health': { ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1 },
      'GET /api/runs': { ThrottlingRateLimit: 3, ThrottlingBurstLimit: 6 },
    });
  });

  it('reserves concurrency for the query function only: readers cannot starve ingest and aggregation', () => {
    const reserved = (context: Record<string, unknown>) =>
      Object.entries(synth(context).template.findResources('AWS::Lambda::Function'))
        .filter(([id]) => /^(apiingest|apiquery|aggregationaggregate)/.test(id))
        .map(([id, fn]) => [id.replace(/[0-9A-F]{8}$/, ''), fn.Properties.ReservedConcurrentExecutions]);
    expect(reserved({})).toEqual([
      ['apiingest', undefined],
      ['apiquery', 10],
      ['aggregationaggregate', undefined],
    ]);
    expect(reserved({ queryReservedConcurrency: '25' })).toContainEqual(['apiquery', 25]);
    expect(reserved({ queryReservedConcurrency: 'none' })).toContainEqual(['apiquery', undefined]);
  });

  it('writes JSON access logs to a log group', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('apiaccesslogs'), 'Arn'] },
        Format: Match.serializedJson(
          Match.objectLike({ requestId: '$context.requestId', status: '$context.status' }),
        ),
      },
    });
  });
});

describe('reader auth: cognito (default)', () => {
  it('puts a JWT authorizer from the stack user pool on every read route', () => {
    const { template } = synth();
    const auth = authorizationByRoute(template);
    for (const key of readRouteKeys) expect(auth[key]).toBe('JWT');
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('readerauthuserpooldashboardclient') }],
        Issuer: {
          'Fn::Join': [
            '',
            Match.arrayWith([
              Match.stringLikeRegexp('https://cognito-idp\\.'),
              { Ref: Match.stringLikeRegexp('readerauthuserpool') },
            ]),
          ],
        },
      },
    });
  });

  it('makes an admin-invite-only user pool with a strong password policy and required TOTP MFA', () => {
    synth().template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
  });

  it('makes a public app client for the authorization-code flow (PKCE), without a secret', () => {
    synth().template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: [
        {
          'Fn::Join': [
            '',
            [
              'https://',
              { 'Fn::GetAtt': [Match.stringLikeRegexp('dashboarddistribution'), 'DomainName'] },
              '/',
            ],
          ],
        },
      ],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
  });

  it('adds a custom domain as a sign-in callback', () => {
    const { template } = synth({
      domainName: 'metrics.example.com',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: Match.arrayWith(['https://metrics.example.com/']),
    });
  });

  it('makes a hosted sign-in domain', () => {
    synth().template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['fixer-metrics-dev-', { Ref: 'AWS::AccountId' }]] },
    });
    synth({ cognitoDomainPrefix: 'acme-metrics' }).template.hasResourceProperties(
      'AWS::Cognito::UserPoolDomain',
      {
        Domain: 'acme-metrics',
      },
    );
  });
});

describe('reader auth: external OIDC issuer', () => {
  const context = {
    auth: 'oidc',
    oidcIssuer: 'https://login.example.com/tenant',
    oidcAudience: 'metrics-api',
  };

  it('puts a JWT authorizer for that issuer and audience on every read route, and makes no user pool', () => {
    const { template } = synth(context);
    const auth = authorizationByRoute(template);
    for (const key of readRouteKeys) expect(auth[key]).toBe('JWT');
    expect(auth['POST /api/executions']).toBe('AWS_IAM');
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://login.example.com/tenant', Audience: ['metrics-api'] },
    });
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
  });
});

describe('reader auth: off', () => {
  it('leaves the read routes open, keeps IAM on ingest, and warns at synth', () => {
    const { stack, template } = synth({ auth: 'none' });
    const auth = authorizationByRoute(template);
    for (const key of readRouteKeys) expect(auth[key]).toBe('NONE');
    expect(auth['POST /api/executions']).toBe('AWS_IAM');
    expect(auth['POST /v1/traces']).toBe('AWS_IAM');
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('auth=none'));
  });

  it('does not warn while auth is on', () => {
    const { stack } = synth();
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('auth=none'));
  });
});
