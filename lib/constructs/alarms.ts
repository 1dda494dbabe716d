import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmRule, metricNames } from '../../functions/domain/alarm-rule';

/** Props of {@link Alarms}. */
export interface AlarmsProps {
  /** Email addresses subscribed to every alarm and OK notification. @default [] */
  readonly emails?: readonly string[];
  /** HTTPS endpoints (pager webhooks) subscribed likewise. @default [] */
  readonly pagerUrls?: readonly string[];
  /** Keep the topic's KMS key when the stack is deleted. @default false */
  readonly protectKey?: boolean;
}

/** Milliseconds a stream record may wait before the pipeline counts as stuck. */
export const ITERATOR_AGE_THRESHOLD_MS = 10 * 60 * 1000;

/** Number of standard deviations of the hourly-cost anomaly band (as in GET /api/timeseries). */
export const COST_ANOMALY_STD_DEVS = 2;

/**
 * Everything that pages: one encrypted SNS topic and the alarms that notify it,
 * on both ALARM and OK so that on-call also learns when it is over.
 */
export class Alarms extends Construct {
  public readonly topic: sns.Topic;
  /** Success rate below the shared threshold over the shared window. */
  public readonly successRate: cloudwatch.Alarm;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmsProps = {}) {
    super(scope, id);

    // A customer key, because CloudWatch cannot publish to a topic encrypted
    // with the AWS-managed SNS key: that key's policy cannot be changed to let
    // cloudwatch.amazonaws.com use it.
    const key = new kms.Key(this, 'topic-key', {
      description: 'Encrypts the fixer agent metrics alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.protectKey ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'alarm-topic', {
      displayName: 'Fixer agent metrics alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    for (const url of props.pagerUrls ?? []) {
      this.topic.addSubscription(
        new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
    }
    this.action = new SnsAction(this.topic);

    const window = Duration.minutes(alarmRule.windowMinutes);
    const executions = new cloudwatch.Metric({
      namespace: metricNames.namespace,
      metricName: metricNames.executions,
      statistic: cloudwatch.Stats.SUM,
      period: window,
    });
    const failures = new cloudwatch.Metric({
      namespace: metricNames.namespace,
      metricName: metricNames.failures,
      statistic: cloudwatch.Stats.SUM,
      period: window,
    });
    const successRate = new cloudwatch.MathExpression({
      // Below the minimum volume the rate is noise (2 failures in 3 runs is not
      // an outage), so the expression reports a healthy 1 instead of a rate.
      // FILL(failures, 0): a window with runs but no failure datapoint is 100 %.
      expression: `IF(FILL(executions, 0) >= ${alarmRule.minExecutions}, 1 - FILL(failures, 0) / FILL(executions, 0), 1)`,
      usingMetrics: { executions, failures },
      period: window,
      label: 'Success rate',
    });
    this.successRate = this.page(
      new cloudwatch.Alarm(this, 'success-rate', {
        alarmDescription: `Fixer agent success rate below ${alarmRule.threshold * 100} % over ${alarmRule.windowMinutes} min (with at least ${alarmRule.minExecutions} runs). Same rule as GET /api/alarm.`,
        metric: successRate,
        threshold: alarmRule.threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No datapoint at all means no runs reached the aggregator in the
        // window. That is silence, not failure: the success rate of nothing is
        // undefined, and paging on it would wake on-call every quiet night.
        // A stalled pipeline pages through the iterator-age and DLQ alarms.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Pages when a stream batch lands in the dead-letter queue: runs are missing from aggregates. */
  addDeadLetterAlarm(queue: sqs.IQueue): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, 'dlq-not-empty', {
        alarmDescription:
          'A stream batch failed every retry and went to the dead-letter queue; aggregates miss those runs until it is replayed.',
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // SQS publishes this metric continuously; a gap is not a message.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Pages when the aggregate function falls behind the stream (the dashboard goes stale). */
  addIteratorAgeAlarm(fn: lambda.IFunction): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, 'stream-iterator-age', {
        alarmDescription: `The aggregate function is more than ${ITERATOR_AGE_THRESHOLD_MS / 60000} min behind the Executions stream for 15 min; records expire after 24 h.`,
        metric: fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: ITERATOR_AGE_THRESHOLD_MS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No invocations means no backlog to be behind on.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Pages on any error of `fn`: the API contract allows no 5xx, and the aggregator reports failures per record. */
  addErrorsAlarm(id: string, fn: lambda.IFunction): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, `${id}-errors`, {
        alarmDescription: `The ${id} function failed (uncaught error, timeout or out of memory).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Lambda emits no Errors datapoint for an idle function.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Pages when the agent's hourly spend leaves its learned band upwards (a runaway loop, a pricier model). */
  addCostAnomalyAlarm(): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.AnomalyDetectionAlarm(this, 'hourly-cost-anomaly', {
        alarmDescription: `Hourly agent cost above ${COST_ANOMALY_STD_DEVS} standard deviations of its expected band.`,
        metric: new cloudwatch.Metric({
          namespace: metricNames.namespace,
          metricName: metricNames.costUsd,
          statistic: cloudwatch.Stats.SUM,
          period: Duration.hours(1),
        }),
        stdDevs: COST_ANOMALY_STD_DEVS,
        // Spending less than usual is not an incident.
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
        evaluationPeriods: 1,
        // No runs, no cost, nothing anomalous.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private page<T extends cloudwatch.Alarm>(alarm: T): T {
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
