import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { addMetricsStack } from '../../lib/app';
import { ConfigError, readConfig } from '../../lib/config';
import { baseContext, synth } from './synth';

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: unknown[];
  suppressedViolations: { ruleName: string; acknowledgedId: string; reason: string }[];
}

/** The AwsSolutions report CDK writes next to the templates. */
function nagReport(directory: string): PluginReport {
  const report = JSON.parse(readFileSync(join(directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: PluginReport[];
  };
  const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
  if (!nag) throw new Error('cdk-nag did not run');
  return nag;
}

const contexts: [string, Record<string, unknown>][] = [
  ['defaults (dev, cognito)', {}],
  [
    'prod with a custom domain, a WebACL and subscriptions',
    {
      stage: 'prod',
      domainName: 'metrics.example.com',
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/metrics/abc',
      alarmEmails: 'oncall@example.com',
      pagerUrls: 'https://pager.example.com/hook',
    },
  ],
  [
    'an external OIDC issuer',
    { auth: 'oidc', oidcIssuer: 'https://login.example.com', oidcAudience: 'metrics' },
  ],
  ['auth off', { auth: 'none' }],
];

describe('cdk-nag (AwsSolutions)', () => {
  it.each(contexts)('passes with %s, every accepted finding acknowledged with a reason', (_name, context) => {
    // cdk-nag runs on every synth; aws-cdk-lib's own rule engine too, once, as in `npm run synth`.
    const { app } = synth(context, { fullValidation: Object.keys(context).length === 0 });
    const report = nagReport(app.synth().directory);
    expect(report.conclusion).toBe('success');
    expect(report.violations).toEqual([]);
    for (const suppressed of report.suppressedViolations) {
      expect(suppressed.reason.length, suppressed.acknowledgedId).toBeGreaterThan(60);
    }
  });

  it('fails the synth on any unacknowledged finding', () => {
    const app = new App({
      context: { ...baseContext, 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = addMetricsStack(app);
    new s3.Bucket(stack, 'unlogged-bucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('accepts only the findings the design explains', () => {
    const { app } = synth({}, { fullValidation: true });
    const rules = new Set(
      nagReport(app.synth().directory).suppressedViolations.map((s) => s.ruleName.replace(/\[.*\]$/, '')),
    );
    expect([...rules].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-CFR1',
      'AwsSolutions-CFR2',
      'AwsSolutions-CFR4',
      'AwsSolutions-COG8',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-SQS3',
    ]);
  });
});

describe('bundling', () => {
  it('bundles the real handlers with the local esbuild into ESM with source maps, no Docker needed', () => {
    const { app, template } = synth({ 'aws:cdk:enable-asset-metadata': true }, { bundle: true });
    const assembly = app.synth();
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Runtime: 'nodejs22.x' },
    });
    expect(Object.keys(functions)).toHaveLength(4);
    for (const fn of Object.values(functions)) {
      const assetDir = join(assembly.directory, fn.Metadata['aws:asset:path'] as string);
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      // The banner gives the ESM bundle a real `require` for bundled CommonJS code.
      expect(bundle.startsWith("import { createRequire as __houseCreateRequire } from 'node:module';")).toBe(
        true,
      );
      expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b/);
      expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    }
  });
});

describe('context validation', () => {
  const read = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

  it('defaults to a dev stage with Cognito, 90-day raw retention and 50/100 throttling', () => {
    expect(read({})).toMatchObject({
      stage: 'dev',
      auth: 'cognito',
      rawRetentionDays: 90,
      logRetentionDays: 90,
      throttleRateLimit: 50,
      throttleBurstLimit: 100,
      ingestThrottle: { rateLimit: 50, burstLimit: 100 },
      readThrottle: { rateLimit: 10, burstLimit: 20 },
      healthThrottle: { rateLimit: 2, burstLimit: 5 },
      queryReservedConcurrency: 10,
      streamBatchingWindowSeconds: 1,
      alarmEmails: [],
      pagerUrls: [],
    });
  });

  it('reads runLimits as an object or its JSON, other keys taking their defaults', () => {
    const defaults = { clockSkewSeconds: 300, maxDurationHours: 24, maxCostUsd: 1000, maxTokens: 2_000_000 };
    expect(read({}).runLimits).toEqual(defaults);
    expect(read({ runLimits: { maxCostUsd: 50 } }).runLimits).toEqual({ ...defaults, maxCostUsd: 50 });
    expect(read({ runLimits: '{"maxDurationHours":48}' }).runLimits).toEqual({
      ...defaults,
      maxDurationHours: 48,
    });
  });

  it.each([
    [{ stage: 'production' }, /stage must be one of dev, prod/],
    [{ auth: 'off' }, /auth must be one of cognito, oidc, none/],
    [{ auth: 'oidc' }, /oidcIssuer/],
    [{ auth: 'oidc', oidcIssuer: 'https://login.example.com' }, /oidcAudience/],
    [{ pagerUrl: 'http://pager.example.com' }, /https/],
    [{ alarmEmail: 'oncall' }, /not an email/],
    [{ rawRetentionDays: '0' }, /rawRetentionDays/],
    [{ throttleRateLimit: 'fast' }, /throttleRateLimit/],
    [{ ingestBurstLimit: '0' }, /ingestBurstLimit must be an integer from 1/],
    [{ readRateLimit: 1.5 }, /readRateLimit/],
    [{ healthRateLimit: 'slow' }, /healthRateLimit/],
    [{ queryReservedConcurrency: '0' }, /queryReservedConcurrency must be an integer from 1 to 1000/],
    // AWS takes 0 to 300 whole seconds.
    [{ streamBatchingWindowSeconds: '-1' }, /streamBatchingWindowSeconds must be an integer from 0 to 300/],
    [{ streamBatchingWindowSeconds: '301' }, /streamBatchingWindowSeconds must be an integer from 0 to 300/],
    [{ streamBatchingWindowSeconds: '2.5' }, /streamBatchingWindowSeconds/],
    [{ domainName: 'metrics.example.com' }, /give both or neither/],
    [{ domainName: 'm.example.com', certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x' }, /us-east-1/],
    [{ cognitoDomainPrefix: 'Has_Caps' }, /cognitoDomainPrefix/],
    [{ runLimits: '{"maxTokens":3000000}' }, /runLimits: maxTokens must be at most 2922710/],
    [{ runLimits: 'fast' }, /runLimits must be a JSON object/],
    [{ modelPrices: 'cheap' }, /modelPrices must be a JSON object/],
    [{ modelPrices: { takenOn: '2026-12-02', source: 's', models: { m: {} } } }, /modelPrices: models\.m/],
    [
      {
        modelPrices: {
          takenOn: '2026-12-02',
          source: 'x'.repeat(500),
          models: Object.fromEntries(
            Array.from({ length: 30 }, (_, index) => [
              `model-with-a-long-name-${'x'.repeat(40)}-${index}`,
              { input: 1, output: 1, cacheRead: 1, cacheWrite: 1 },
            ]),
          ),
        },
      },
      /modelPrices must be at most 3000 bytes/,
    ],
  ])('rejects %j', (context, message) => {
    expect(() => read(context)).toThrow(ConfigError);
    expect(() => read(context)).toThrow(message);
  });
});
