import { Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { AUDIT_SCHEDULE_UTC } from '../../functions/domain/aggregate-audit';
import { alarmRule, metricNames } from '../../functions/domain/alarm-rule';
import {
  API_4XX_MIN_REQUESTS,
  API_4XX_RATE_THRESHOLD,
  API_5XX_THRESHOLD,
  ITERATOR_AGE_THRESHOLD_MS,
} from '../../lib/constructs/alarms';
import { logicalIdOf, synth } from './synth';

const topicOf = (template: Template) => ({ Ref: logicalIdOf(template, 'AWS::SNS::Topic') });

/** The dimensions every custom metric of `stage` is emitted with (metrics-emitter.ts), as CDK orders them. */
const stageDimensions = (stage: string) => [
  { Name: 'Stage', Value: stage },
  { Name: 'service', Value: 'fixer-agent-metrics' },
];

/** The one alarm whose description matches. */
function alarm(template: Template, description: RegExp) {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
    description.test(a.Properties.AlarmDescription),
  );
  expect(alarms).toHaveLength(1);
  return alarms[0]!.Properties;
}

describe('alarms', () => {
  it('sends every alarm to the one topic, on ALARM and on OK (late failures through its composite)', () => {
    const { template } = synth();
    const topic = topicOf(template);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // success rate, late failures, DLQ, iterator age, four function errors, cost anomaly,
    // API 5xx, API 4xx rate, ingest and query 5xx, metrics lost, aggregate mismatch
    expect(alarms).toHaveLength(15);
    // Every alarm but the late-failures metric alarm, which pages through its composite.
    const late = alarm(template, /^Under .* runs reported in the last/);
    const paging = [
      ...alarms.filter((a) => a.Properties !== late),
      ...Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm')),
    ];
    expect(paging).toHaveLength(15);
    for (const a of paging) {
      expect(a.Properties.AlarmActions).toEqual([topic]);
      expect(a.Properties.OKActions).toEqual([topic]);
    }
    // The late-failures metric alarm itself notifies no one: its composite does.
    expect(late.AlarmActions).toBeUndefined();
    expect(late.OKActions).toBeUndefined();
  });

  it('pages on late failures only while the success-rate alarm is not in ALARM: one outage, one page', () => {
    const { template } = synth();
    const [composite, ...others] = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(others).toEqual([]);
    // The rule as CloudWatch reads it, each alarm ARN written as its logical id.
    const [, parts] = composite!.Properties.AlarmRule['Fn::Join'] as [string, unknown[]];
    const rule = parts
      .map((part) =>
        typeof part === 'string' ? part : (part as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0],
      )
      .join('');
    const idOf = (description: RegExp) =>
      Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([, a]) =>
        description.test(a.Properties.AlarmDescription),
      )?.[0];
    const late = idOf(/^Under .* runs reported in the last/);
    const successRate = idOf(/success rate below/);
    expect(rule).toBe(`(ALARM("${late}") AND (NOT (ALARM("${successRate}"))))`);
  });

  it.each([
    [
      'at their start (as GET /api/alarm)',
      /success rate/,
      'Success rate',
      metricNames.executions,
      metricNames.failures,
    ],
    [
      'as they are reported (late failures)',
      /^Under .* runs reported in the last/,
      'Reported success rate',
      metricNames.reportedExecutions,
      metricNames.reportedFailures,
    ],
  ])(
    'pages when the success rate of runs counted %s is below the shared threshold over the shared window, with a volume guard',
    (_, description, label, executionsMetric, failuresMetric) => {
      const { template } = synth();
      const props = alarm(template, description);
      expect(props).toMatchObject({
        Threshold: alarmRule.threshold,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      const metric = (id: string, metricName: string) => ({
        Id: id,
        ReturnData: false,
        MetricStat: {
          Metric: {
            Namespace: metricNames.namespace,
            MetricName: metricName,
            Dimensions: stageDimensions('dev'),
          },
          Period: alarmRule.windowMinutes * 60,
          Stat: 'Sum',
        },
      });
      expect(props.Metrics).toEqual([
        {
          Id: 'expr_1',
          Label: label,
          ReturnData: true,
          Expression: `IF(FILL(executions, 0) >= ${alarmRule.minExecutions}, 1 - FILL(failures, 0) / FILL(executions, 0), 1)`,
        },
        metric('executions', executionsMetric),
        metric('failures', failuresMetric),
      ]);
    },
  );

  it('pages as soon as the dead-letter queue holds a message', () => {
    const { template } = synth();
    expect(alarm(template, /dead-letter queue/)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue'), 'QueueName'] },
        },
      ],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('pages when the aggregator falls behind the stream for 15 minutes', () => {
    expect(alarm(synth().template, /behind the Executions stream/)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^aggregationaggregate/) } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: ITERATOR_AGE_THRESHOLD_MS,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each([
    ['ingest', /^apiingest/],
    ['aggregate', /^aggregationaggregate/],
    ['query', /^apiquery/],
  ])('pages on any error of the %s function', (name, functionId) => {
    expect(alarm(synth().template, new RegExp(`^The ${name} function failed`))).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(functionId) } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('reads only the metrics of its own stage: a dev load test cannot page prod', () => {
    type Metric = { Namespace?: string; Dimensions?: unknown };
    // A single-metric alarm names its metric at the top; a metric-math alarm lists them in Metrics.
    const metricsOf = (stage: string): Metric[] =>
      Object.values(synth({ stage }).template.findResources('AWS::CloudWatch::Alarm'))
        .flatMap((a): Metric[] => [
          a.Properties,
          ...(a.Properties.Metrics ?? []).map(
            (m: { MetricStat?: { Metric: Metric } }) => m.MetricStat?.Metric,
          ),
        ])
        .filter((m) => m?.Namespace === metricNames.namespace);
    for (const stage of ['dev', 'prod']) {
      const custom = metricsOf(stage);
      // executions, failures, reported executions and failures, cost, ingest 5xx, query 5xx,
      // emit failures, aggregate mismatches
      expect(custom).toHaveLength(9);
      for (const metric of custom)
        expect(metric.Dimensions).toEqual(expect.arrayContaining(stageDimensions(stage)));
    }
  });

  it('pages on 5xx answers of the HTTP API, whoever gave them', () => {
    const { template } = synth();
    expect(alarm(template, /HTTP API answered .* 5xx/)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: logicalIdOf(template, 'AWS::ApiGatewayV2::Api') } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: API_5XX_THRESHOLD,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('pages on a sustained 4xx rate, with a volume guard', () => {
    const { template } = synth();
    const props = alarm(template, /4xx for 15 min/);
    expect(props).toMatchObject({
      Threshold: API_4XX_RATE_THRESHOLD,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    const api = { Name: 'ApiId', Value: { Ref: logicalIdOf(template, 'AWS::ApiGatewayV2::Api') } };
    expect(props.Metrics).toEqual([
      expect.objectContaining({
        Expression: `IF(FILL(requests, 0) >= ${API_4XX_MIN_REQUESTS}, FILL(clientErrors, 0) / requests, 0)`,
        ReturnData: true,
      }),
      expect.objectContaining({
        Id: 'requests',
        MetricStat: {
          Metric: { Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: [api] },
          Period: 300,
          Stat: 'Sum',
        },
      }),
      expect.objectContaining({
        Id: 'clientErrors',
        MetricStat: {
          Metric: { Namespace: 'AWS/ApiGateway', MetricName: '4xx', Dimensions: [api] },
          Period: 300,
          Stat: 'Sum',
        },
      }),
    ]);
  });

  it.each(['ingest', 'query'])('pages on the first 5xx the %s handler answers itself', (name) => {
    expect(
      alarm(synth({ stage: 'prod' }).template, new RegExp(`^The ${name} function answered a 5xx`)),
    ).toMatchObject({
      Namespace: metricNames.namespace,
      MetricName: metricNames.serverErrors,
      Dimensions: [{ Name: 'Function', Value: name }, ...stageDimensions('prod')],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('pages for a day when the daily audit finds aggregate items that differ, and runs that audit every day', () => {
    const { template } = synth({ stage: 'prod' });
    expect(alarm(template, /daily audit found aggregate items/)).toMatchObject({
      Namespace: metricNames.namespace,
      MetricName: metricNames.aggregateMismatches,
      Dimensions: stageDimensions('prod'),
      Statistic: 'Maximum',
      Period: 86_400,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarm(template, /^The audit function failed/)).toMatchObject({ MetricName: 'Errors' });
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      ScheduleExpression: `cron(${AUDIT_SCHEDULE_UTC.minute} ${AUDIT_SCHEDULE_UTC.hour} * * ? *)`,
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [expect.stringMatching(/^aggregateaudit[0-9A-F]{8}$/), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2 },
        },
      ],
    });
  });

  it('pages when metrics are lost: emit failures, or EMF that CloudWatch Logs rejected in any function log group', () => {
    const { template } = synth();
    const props = alarm(template, /Custom metrics were lost/);
    expect(props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const metrics = props.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: Record<string, unknown> };
    }[];
    expect(metrics[0]?.Expression?.split(' + ')).toHaveLength(9);
    expect(metrics.find((m) => m.Id === 'emitFailures')?.MetricStat?.Metric).toEqual({
      Namespace: metricNames.namespace,
      MetricName: metricNames.emitFailures,
      Dimensions: stageDimensions('dev'),
    });
    const logGroups = metrics
      .filter((m) => m.MetricStat?.Metric.Namespace === 'AWS/Logs')
      .map((m) => `${m.MetricStat?.Metric.MetricName} ${JSON.stringify(m.MetricStat?.Metric.Dimensions)}`);
    for (const fn of [
      'apiingestlogs',
      'apiquerylogs',
      'aggregationaggregatelogs',
      'aggregateauditauditlogs',
    ]) {
      for (const name of ['EMFValidationErrors', 'EMFParsingErrors']) {
        expect(logGroups.some((m) => m.startsWith(name) && m.includes(fn))).toBe(true);
      }
    }
  });

  it('pages when hourly cost rises above its anomaly band', () => {
    const props = alarm(synth().template, /Hourly agent cost/);
    expect(props).toMatchObject({
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: 'expr_1',
      TreatMissingData: 'notBreaching',
    });
    expect(props.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'expr_1', Expression: 'ANOMALY_DETECTION_BAND(m0, 2)' }),
        expect.objectContaining({
          Id: 'm0',
          MetricStat: {
            Metric: {
              Namespace: metricNames.namespace,
              MetricName: metricNames.costUsd,
              Dimensions: stageDimensions('dev'),
            },
            Period: 3600,
            Stat: 'Sum',
          },
        }),
      ]),
    );
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotating customer key that CloudWatch may use', () => {
    const { template } = synth();
    const key = logicalIdOf(template, 'AWS::KMS::Key');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('refuses publishing over plain HTTP', () => {
    synth().template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has no subscriptions by default', () => {
    synth().template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the emails and pager URLs from context', () => {
    const { template } = synth({
      alarmEmails: ['oncall@example.com', 'lead@example.com'],
      pagerUrl: 'https://events.pager.example.com/integration/abc',
    });
    const topic = topicOf(template);
    template.resourceCountIs('AWS::SNS::Subscription', 3);
    for (const email of ['oncall@example.com', 'lead@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: topic,
      });
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://events.pager.example.com/integration/abc',
      TopicArn: topic,
    });
  });

  it('accepts comma-separated lists from the command line', () => {
    const { template } = synth({
      alarmEmails: 'a@example.com, b@example.com',
      pagerUrls: 'https://p.example.com/1',
    });
    template.resourceCountIs('AWS::SNS::Subscription', 3);
  });
});
