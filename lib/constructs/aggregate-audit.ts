import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUDIT_SCHEDULE_UTC } from '../../functions/domain/aggregate-audit';
import { functionPermissions } from '../../functions/store/permissions';
import { functionEntry } from '../paths';
import { HouseFunction } from './house-function';

/** Props of {@link AggregateAudit}. */
export interface AggregateAuditProps {
  readonly executions: dynamodb.ITable;
  readonly aggregates: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly stage: string;
  /** How long an item must stay unchanged before it is compared (RebuildMinSettleSeconds). */
  readonly settleSeconds: number;
  /** Days raw runs are kept: older days are not audited. */
  readonly rawRetentionDays: number;
}

/**
 * The daily aggregate audit (functions/audit.ts): an EventBridge schedule
 * invokes a read-only function that recomputes the last two days' aggregate
 * items from the Executions table and emits AggregateMismatches, which the
 * stack's alarms page on.
 */
export class AggregateAudit extends Construct {
  public readonly auditFunction: HouseFunction;

  constructor(scope: Construct, id: string, props: AggregateAuditProps) {
    super(scope, id);
    this.auditFunction = new HouseFunction(this, 'audit', {
      entry: functionEntry('audit'),
      description:
        'Daily: recomputes the last two days of aggregates from the Executions table and reports differences',
      stage: props.stage,
      // Two days of runs are read twice each, side by side; memory buys CPU to decode them.
      memorySize: 1024,
      // A day waits its settle window once per round; the rest is reading.
      timeout: Duration.minutes(15),
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        EXECUTIONS_TABLE_NAME: props.executions.tableName,
        AGGREGATES_TABLE_NAME: props.aggregates.tableName,
        AUDIT_SETTLE_SECONDS: String(props.settleSeconds),
        RAW_RETENTION_DAYS: String(props.rawRetentionDays),
      },
    });
    this.auditFunction.grantFromDefinition(functionPermissions.audit, {
      tables: { Executions: props.executions.tableArn, Aggregates: props.aggregates.tableArn },
    });
    new events.Rule(this, 'daily', {
      description: 'Runs the aggregate audit once a day',
      schedule: events.Schedule.cron({
        hour: String(AUDIT_SCHEDULE_UTC.hour),
        minute: String(AUDIT_SCHEDULE_UTC.minute),
      }),
      // A failed audit is retried by EventBridge; the function's errors alarm pages if it keeps failing.
      targets: [new targets.LambdaFunction(this.auditFunction, { retryAttempts: 2 })],
    });
  }
}
