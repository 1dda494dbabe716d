import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addMetricsStack } from '../../lib/app';
import type { FixerMetricsStack } from '../../lib/fixer-metrics-stack';

/** Context every test starts from: the defaults of cdk.json. */
export const baseContext = { stage: 'dev', auth: 'cognito', rawRetentionDays: 90 } as const;

export interface Synthesized {
  readonly app: App;
  readonly stack: FixerMetricsStack;
  readonly template: Template;
}

const cache = new Map<string, Synthesized>();

/**
 * Builds the app as bin/app.ts does (cdk-nag included) with extra context.
 * Bundling is skipped unless `bundle` is set: the documented
 * `aws:cdk:bundling-stacks: []` context leaves the Lambda code unbuilt, which
 * keeps each synth well under a second and needs no handler to compile.
 * cdk-nag runs on every one of these synths, so every test also proves that
 * its context combination passes the AwsSolutions checks.
 */
export function synth(
  context: Record<string, unknown> = {},
  options: { bundle?: boolean; fullValidation?: boolean } = {},
): Synthesized {
  const key = JSON.stringify({ context, options });
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({
    context: {
      ...baseContext,
      ...context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
    // aws-cdk-lib's own CloudFormation rule engine (WebAssembly) costs seconds
    // per test worker; the nag tests keep it on, as `npm run synth` does.
    builtinCloudFormationValidation: options.fullValidation ?? false,
  });
  const stack = addMetricsStack(app);
  const result = { app, stack, template: Template.fromStack(stack) };
  cache.set(key, result);
  return result;
}

/** Every IAM policy statement of the template, flattened. */
export function policyStatements(template: Template): { Action: string | string[]; Resource: unknown }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: [] } } }).Properties.PolicyDocument.Statement,
  );
}

/** The logical id of the single resource of `type` whose properties contain `fragment`. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0]!;
}
