import { Annotations, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { minimumSettleSeconds } from '../functions/domain/stream-batch';
import type { FunctionName } from '../functions/store/permissions';
import type { MetricsConfig } from './config';
import { AggregateAudit } from './constructs/aggregate-audit';
import { Aggregation } from './constructs/aggregation';
import { Alarms } from './constructs/alarms';
import { DashboardSite } from './constructs/dashboard-site';
import { DataTables } from './constructs/data-tables';
import type { HouseFunction } from './constructs/house-function';
import { MetricsApi } from './constructs/metrics-api';
import { ReaderAuth } from './constructs/reader-auth';
import { acknowledgeFindings } from './nag-acknowledgements';

/** Props of {@link FixerMetricsStack}. */
export interface FixerMetricsStackProps extends StackProps {
  /** The validated deploy-time choices (see lib/config.ts). */
  readonly config: MetricsConfig;
}

/**
 * The whole platform of DESIGN.md in one stack: tables, ingest, aggregation,
 * query API, alarms, reader auth and the dashboard at the edge.
 */
export class FixerMetricsStack extends Stack {
  public readonly tables: DataTables;
  public readonly api: MetricsApi;
  public readonly aggregation: Aggregation;
  public readonly audit: AggregateAudit;
  /** Every Lambda function of the stack, by the name its permissions go by (store/permissions.ts). */
  public readonly functions: Readonly<Record<FunctionName, HouseFunction>>;
  public readonly alarms: Alarms;
  public readonly auth: ReaderAuth;
  public readonly site: DashboardSite;
  public readonly config: MetricsConfig;

  constructor(scope: Construct, id: string, props: FixerMetricsStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const prod = config.stage === 'prod';
    const logRetention = retentionDays(config.logRetentionDays);
    // Logs are evidence after an incident: prod keeps them when the stack goes.
    const logRemovalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.tables = new DataTables(this, 'data', { protectData: prod });

    this.alarms = new Alarms(this, 'alarms', {
      stage: config.stage,
      emails: config.alarmEmails,
      pagerUrls: config.pagerUrls,
      protectKey: prod,
    });

    this.auth = new ReaderAuth(this, 'reader-auth', {
      mode: config.auth,
      stage: config.stage,
      protectUsers: prod,
      cognitoDomainPrefix: config.cognitoDomainPrefix,
      oidcIssuer: config.oidcIssuer,
      oidcAudience: config.oidcAudience,
      oidcClientId: config.oidcClientId,
    });
    if (config.auth === 'none') {
      Annotations.of(this).addWarningV2(
        'fixer:auth-disabled',
        'auth=none: every GET /api/* route and the dashboard are open to anyone who finds the URL. Use only for throwaway test stacks.',
      );
    }

    this.api = new MetricsApi(this, 'api', {
      executions: this.tables.executions,
      aggregates: this.tables.aggregates,
      rawRetentionDays: config.rawRetentionDays,
      runLimits: config.runLimits,
      modelPricesJson: config.modelPricesJson,
      readAuthorizer: this.auth.authorizer,
      successRateAlarm: { name: this.alarms.successRate.alarmName, arn: this.alarms.successRate.alarmArn },
      defaultThrottle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      ingestThrottle: config.ingestThrottle,
      readThrottle: config.readThrottle,
      healthThrottle: config.healthThrottle,
      queryReservedConcurrency: config.queryReservedConcurrency,
      logRetention,
      logRemovalPolicy,
      stage: config.stage,
    });

    this.aggregation = new Aggregation(this, 'aggregation', {
      executions: this.tables.executions,
      aggregates: this.tables.aggregates,
      logRetention,
      logRemovalPolicy,
      stage: config.stage,
      batchingWindowSeconds: config.streamBatchingWindowSeconds,
    });

    const settleSeconds = minimumSettleSeconds(config.streamBatchingWindowSeconds);
    this.audit = new AggregateAudit(this, 'aggregate-audit', {
      executions: this.tables.executions,
      aggregates: this.tables.aggregates,
      logRetention,
      logRemovalPolicy,
      stage: config.stage,
      settleSeconds,
      rawRetentionDays: config.rawRetentionDays,
    });

    this.functions = {
      ingest: this.api.ingestFunction,
      query: this.api.queryFunction,
      aggregate: this.aggregation.aggregateFunction,
      audit: this.audit.auditFunction,
    };

    this.alarms.addDeadLetterAlarm(this.aggregation.deadLetterQueue);
    this.alarms.addIteratorAgeAlarm(this.aggregation.aggregateFunction);
    for (const [name, fn] of Object.entries(this.functions)) this.alarms.addErrorsAlarm(name, fn);
    this.alarms.addAggregateMismatchAlarm();
    this.alarms.addCostAnomalyAlarm();
    this.alarms.addApiServerErrorsAlarm(this.api.httpApi);
    this.alarms.addApiClientErrorRateAlarm(this.api.httpApi);
    this.alarms.addHandlerServerErrorsAlarm('ingest');
    this.alarms.addHandlerServerErrorsAlarm('query');
    this.alarms.addMetricsLostAlarm(Object.values(this.functions).map((fn) => fn.logGroup));

    this.site = new DashboardSite(this, 'dashboard', {
      apiDomain: this.api.endpointDomain,
      signIn: this.auth.signIn,
      stage: config.stage,
      protectBuckets: prod,
      logRetentionDays: config.logRetentionDays,
      domainName: config.domainName,
      certificateArn: config.certificateArn,
      webAclArn: config.webAclArn,
    });
    for (const origin of this.site.origins) this.auth.addDashboardUrl(`${origin}/`);

    new CfnOutput(this, 'DashboardUrl', { value: this.site.url, description: 'Open this in a browser' });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.httpApi.apiEndpoint,
      description:
        'Base URL for agents: npm run send -- --url <this> (SigV4 needs the API host itself, not CloudFront)',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'SuccessRateAlarmName', { value: this.alarms.successRate.alarmName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.aggregation.deadLetterQueue.queueUrl });
    // What `npm run rebuild` needs against this stack (docs/REBUILD.md).
    new CfnOutput(this, 'ExecutionsTableName', { value: this.tables.executions.tableName });
    new CfnOutput(this, 'AggregatesTableName', { value: this.tables.aggregates.tableName });
    new CfnOutput(this, 'RebuildMinSettleSeconds', {
      value: String(settleSeconds),
      description:
        'Least --settle-seconds for npm run rebuild: the stream batching window plus 59 s (also above IteratorAge)',
    });
    new CfnOutput(this, 'AuditFunctionName', {
      value: this.audit.auditFunction.functionName,
      description: 'The daily aggregate audit; invoke it with {"days":["YYYY-MM-DD"]} to check days now',
    });
    if (this.auth.userPool && this.auth.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.auth.userPoolClient.userPoolClientId });
    }

    acknowledgeFindings(this);
  }
}

function retentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  // CloudWatch accepts only certain values; round up to the next one so logs are never kept shorter than asked.
  const match = allowed
    .filter((v) => v >= days && v !== logs.RetentionDays.INFINITE)
    .sort((a, b) => a - b)[0];
  return (match ?? logs.RetentionDays.INFINITE) as logs.RetentionDays;
}
