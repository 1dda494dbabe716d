import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config';
import { FixerMetricsStack } from './fixer-metrics-stack';

/**
 * Adds the platform's stack to `app`, configured from the app's context, with
 * cdk-nag's AwsSolutions checks on every synth (any unacknowledged finding fails it).
 */
export function addMetricsStack(app: App): FixerMetricsStack {
  const config = readConfig(app.node);
  const stack = new FixerMetricsStack(app, `FixerAgentMetrics-${config.stage}`, {
    config,
    description: `Fixer agent metrics: ingest, exactly-once aggregates, dashboard and alarms (${config.stage})`,
    // Environment-agnostic: no account or region lookups, so synth needs no credentials.
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
