import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  alarmRule,
  metricNames,
  REPORTED_WITHIN_HOURS,
  stageDimensions,
} from '../../functions/domain/alarm-rule';

/** Props of {@link Alarms}. */
export interface AlarmsProps {
  /** The stage whose metrics (the `Stage` dimension) the alarms read. */
  readonly stage: string;
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
const COST_ANOMALY_STD_DEVS = 2;

/**
 * 5xx answers of the HTTP API in 5 minutes that page. Not 1: the gateway's
 * own count includes rare transient integration failures a client's retry
 * absorbs; the handlers' own 5xx page from the first one (ServerErrorResponses).
 */
export const API_5XX_THRESHOLD = 5;

/** Share of 4xx answers, sustained over 15 minutes, that pages (bad signatures, expired tokens, 429s). */
export const API_4XX_RATE_THRESHOLD = 0.25;

/** Requests in 5 minutes below which the 4xx rate is noise (a few typos of one user). */
export const API_4XX_MIN_REQUESTS = 50;

/**
 * Everything that pages: one encrypted SNS topic and the alarms that notify it,
 * on both ALARM and OK so that on-call also learns when it is over.
 */
export class Alarms extends Construct {
  public readonly topic: sns.Topic;
  /** Success rate below the shared threshold over the shared window. */
  public readonly successRate: cloudwatch.Alarm;
  private readonly action: SnsAction;

  /** The `service` and `Stage` dimensions every custom metric of this stage carries. */
  private readonly dimensions: Record<string, string>;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.dimensions = stageDimensions(props.stage);

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

    this.successRate = this.successRateAlarm(
      'success-rate',
      { executions: metricNames.executions, failures: metricNames.failures },
      'Success rate',
      `Fixer agent success rate below ${alarmRule.threshold * 100} % over ${alarmRule.windowMinutes} min (with at least ${alarmRule.minExecutions} runs). Same rule as GET /api/alarm.`,
    );
    // The rule above counts a run at its start, as the dashboard does; a run
    // that hangs for over an hour and then fails never reaches its window.
    // The same rule on the runs as they are reported catches those. In an
    // ordinary outage both rules break at once: the late-failures alarm pages
    // through a composite only while the success-rate alarm is not in ALARM,
    // so one outage is one page (and it still pages if the runs keep failing
    // late once the success rate has recovered).
    const lateFailures = this.successRateAlarm(
      'late-failures',
      { executions: metricNames.reportedExecutions, failures: metricNames.reportedFailures },
      'Reported success rate',
      `Under ${alarmRule.threshold * 100} % of the runs reported in the last ${alarmRule.windowMinutes} min succeeded (at least ${alarmRule.minExecutions} runs, started in the last ${REPORTED_WITHIN_HOURS} h), whenever they started. Pages through the late-failures composite alarm.`,
      { page: false },
    );
    this.page(
      new cloudwatch.CompositeAlarm(this, 'late-failures-page', {
        alarmDescription: `Late failures: under ${alarmRule.threshold * 100} % of the runs reported in the last ${alarmRule.windowMinutes} min succeeded while the success rate by start is not in ALARM: runs that hung for over an hour and then failed.`,
        alarmRule: cloudwatch.AlarmRule.allOf(
          cloudwatch.AlarmRule.fromAlarm(lateFailures, cloudwatch.AlarmState.ALARM),
          cloudwatch.AlarmRule.not(
            cloudwatch.AlarmRule.fromAlarm(this.successRate, cloudwatch.AlarmState.ALARM),
          ),
        ),
      }),
    );
  }

  /** In ALARM when the success rate of `metrics` over the rule's window is below its threshold; pages unless `page` is false. */
  private successRateAlarm(
    id: string,
    metrics: { executions: string; failures: string },
    label: string,
    alarmDescription: string,
    { page = true }: { page?: boolean } = {},
  ): cloudwatch.Alarm {
    const window = Duration.minutes(alarmRule.windowMinutes);
    const rate = new cloudwatch.MathExpression({
      // Below the minimum volume the rate is noise (2 failures in 3 runs is not
      // an outage), so the expression reports a healthy 1 instead of a rate.
      // FILL(failures, 0): a window with runs but no failure datapoint is 100 %.
      expression: `IF(FILL(executions, 0) >= ${alarmRule.minExecutions}, 1 - FILL(failures, 0) / FILL(executions, 0), 1)`,
      usingMetrics: {
        executions: this.customMetric(metrics.executions, window),
        failures: this.customMetric(metrics.failures, window),
      },
      period: window,
      label,
    });
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription,
      metric: rate,
      threshold: alarmRule.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No datapoint at all means no runs reached the aggregator in the
      // window. That is silence, not failure: the success rate of nothing is
      // undefined, and paging on it would wake on-call every quiet night.
      // A stalled pipeline pages through the iterator-age and DLQ alarms.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return page ? this.page(alarm) : alarm;
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

  /**
   * Pages when the daily audit (functions/audit.ts) finds settled aggregate
   * items that differ from the Executions table: some figures are wrong
   * until `npm run rebuild` repairs them (docs/REBUILD.md). The audit emits
   * once a day, so the period is a day: the alarm stays in ALARM until an
   * audit finds nothing (CloudWatch allows periods of an hour or more up to
   * seven days of evaluation, PutMetricAlarm's `Period`).
   */
  addAggregateMismatchAlarm(): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, 'aggregate-mismatch', {
        alarmDescription:
          'The daily audit found aggregate items that differ from the Executions table: dashboard and alarm figures are off until npm run rebuild repairs them (docs/REBUILD.md). The audit function log lists the items.',
        metric: this.customMetric(metricNames.aggregateMismatches, Duration.days(1)).with({
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // No audit ran in the last day: its errors alarm says so, not this one.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** Pages when the agent's hourly spend leaves its learned band upwards (a runaway loop, a pricier model). */
  addCostAnomalyAlarm(): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.AnomalyDetectionAlarm(this, 'hourly-cost-anomaly', {
        alarmDescription: `Hourly agent cost above ${COST_ANOMALY_STD_DEVS} standard deviations of its expected band.`,
        metric: this.customMetric(metricNames.costUsd, Duration.hours(1)),
        stdDevs: COST_ANOMALY_STD_DEVS,
        // Spending less than usual is not an incident.
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
        evaluationPeriods: 1,
        // No runs, no cost, nothing anomalous.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Pages on 5xx answers of the HTTP API, whoever gave them: the handlers, or
   * the gateway itself (integration timeout, Lambda throttled or failed).
   */
  addApiServerErrorsAlarm(api: apigw.IHttpApi): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, 'api-5xx', {
        alarmDescription: `The HTTP API answered ${API_5XX_THRESHOLD} or more 5xx in 5 min: agents or readers see server errors.`,
        metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: API_5XX_THRESHOLD,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // API Gateway publishes nothing for a period without requests.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Pages when a quarter of the API's answers are 4xx for 15 minutes: agents
   * signing with a revoked key, dashboards with a broken sign-in, a client
   * past its throttle (429), a release that refuses what clients send.
   */
  addApiClientErrorRateAlarm(api: apigw.IHttpApi): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    const rate = new cloudwatch.MathExpression({
      // Below the minimum volume a handful of bad requests would be a rate of 100 %.
      expression: `IF(FILL(requests, 0) >= ${API_4XX_MIN_REQUESTS}, FILL(clientErrors, 0) / requests, 0)`,
      usingMetrics: {
        requests: api.metricCount({ period, statistic: 'Sum' }),
        clientErrors: api.metricClientError({ period, statistic: 'Sum' }),
      },
      period,
      label: '4xx rate',
    });
    return this.page(
      new cloudwatch.Alarm(this, 'api-4xx-rate', {
        alarmDescription: `More than ${API_4XX_RATE_THRESHOLD * 100} % of HTTP API answers were 4xx for 15 min (at least ${API_4XX_MIN_REQUESTS} requests per 5 min): clients are refused (auth, validation or throttling, 429).`,
        metric: rate,
        threshold: API_4XX_RATE_THRESHOLD,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Pages on any 5xx a handler answers itself (a caught error, the store
   * giving up): Lambda counts those invocations as successes, so the Errors
   * alarm cannot see them.
   */
  addHandlerServerErrorsAlarm(functionName: 'ingest' | 'query'): cloudwatch.Alarm {
    return this.page(
      new cloudwatch.Alarm(this, `${functionName}-5xx`, {
        alarmDescription: `The ${functionName} function answered a 5xx itself (ServerErrorResponses): see its log for "unhandled error" or "request failed".`,
        metric: this.customMetric(metricNames.serverErrors, Duration.minutes(5), {
          [metricNames.functionDimension]: functionName,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // Emitted only when a 5xx happens.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Pages when metrics are lost, so that the alarms above are not blind
   * without anyone knowing: a document a function could not build or write
   * (MetricsEmitFailures, logged too), or EMF that CloudWatch Logs rejected
   * in the functions' log groups (EMFValidationErrors, EMFParsingErrors).
   */
  addMetricsLostAlarm(logGroups: readonly logs.ILogGroup[]): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    const usingMetrics: Record<string, cloudwatch.IMetric> = {
      emitFailures: this.customMetric(metricNames.emitFailures, period),
    };
    logGroups.forEach((logGroup, index) => {
      for (const [id, metricName] of [
        [`validation${index}`, 'EMFValidationErrors'],
        [`parsing${index}`, 'EMFParsingErrors'],
      ] as const) {
        usingMetrics[id] = new cloudwatch.Metric({
          namespace: 'AWS/Logs',
          metricName,
          dimensionsMap: { LogGroupName: logGroup.logGroupName },
          statistic: cloudwatch.Stats.SUM,
          period,
        });
      }
    });
    return this.page(
      new cloudwatch.Alarm(this, 'metrics-lost', {
        alarmDescription:
          'Custom metrics were lost (a function could not emit them, or CloudWatch Logs rejected the EMF): the success-rate, cost and 5xx alarms may be blind. See the function logs for "metrics not emitted".',
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(usingMetrics)
            .map((id) => `FILL(${id}, 0)`)
            .join(' + '),
          usingMetrics,
          period,
          label: 'Metric documents lost',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /** A custom metric of this stage, with the exact dimensions the functions emit it with. */
  private customMetric(
    metricName: string,
    period: Duration,
    extraDimensions: Record<string, string> = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: metricNames.namespace,
      metricName,
      dimensionsMap: { ...this.dimensions, ...extraDimensions },
      statistic: cloudwatch.Stats.SUM,
      period,
    });
  }

  private page<T extends cloudwatch.AlarmBase>(alarm: T): T {
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
