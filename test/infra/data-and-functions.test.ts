import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { metricNames } from '../../functions/domain/alarm-rule';
import { type FunctionName, functionPermissions } from '../../functions/store/permissions';
import { aggregatesTable, executionsTable } from '../../functions/store/tables';
import { logicalIdOf, policyStatements, synth } from './synth';

/** Matches the functions made by the house construct, not the ones aws-cdk-lib adds for deployments. */
const HOUSE_FUNCTIONS = {
  Properties: {
    Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'fixer-agent-metrics' }) },
  },
};

describe('tables', () => {
  it('builds Executions from the shared definition: key, byStartTime index, stream and TTL', () => {
    const { template } = synth();
    const [index] = executionsTable.globalSecondaryIndexes;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: executionsTable.partitionKey.name, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: executionsTable.timeToLiveAttribute, Enabled: true },
    });
  });

  it('builds Aggregates from the shared definition, without stream or TTL', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: aggregatesTable.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: aggregatesTable.sortKey.name, KeyType: 'RANGE' },
      ],
      StreamSpecification: Match.absent(),
      TimeToLiveSpecification: Match.absent(),
    });
  });

  it('makes both tables on-demand, with point-in-time recovery and KMS encryption at rest', () => {
    const tables = synth().template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key id: the AWS-managed KMS key (alias/aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
      });
      expect(table.Properties.SSESpecification.KMSMasterKeyId).toBeUndefined();
    }
  });

  it('lets a dev stack delete its tables', () => {
    const tables = synth({ stage: 'dev' }).template.findResources('AWS::DynamoDB::Table');
    for (const table of Object.values(tables)) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });

  it('retains and deletion-protects the tables of a prod stack', () => {
    const tables = synth({ stage: 'prod' }).template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  it('retains the user pool of a prod stack', () => {
    const pools = synth({ stage: 'prod' }).template.findResources('AWS::Cognito::UserPool');
    for (const pool of Object.values(pools)) {
      expect(pool.DeletionPolicy).toBe('Retain');
      expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    }
  });
});

describe('functions', () => {
  it('runs every function on Node.js 22, arm64, with source maps and a Powertools service name', () => {
    const functions = synth().template.findResources('AWS::Lambda::Function', {
      ...HOUSE_FUNCTIONS,
    });
    expect(Object.keys(functions)).toHaveLength(4);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: expect.objectContaining({
            POWERTOOLS_SERVICE_NAME: 'fixer-agent-metrics',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            NODE_OPTIONS: '--enable-source-maps',
            METRICS_NAMESPACE: metricNames.namespace,
            STAGE: 'dev',
          }),
        },
        LoggingConfig: { LogGroup: expect.anything() },
      });
    }
  });

  it('gives ingest the Executions table and the raw retention from context', () => {
    synth({ rawRetentionDays: 30 }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ EXECUTIONS_TABLE_NAME: Match.anyValue(), RAW_RETENTION_DAYS: '30' }),
      },
    });
  });

  it('hands a modelPrices context to ingest as MODEL_PRICES, and leaves the bundled table otherwise', () => {
    const table = {
      takenOn: '2026-12-02',
      source: 'our contract',
      models: { 'house-model': { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25 } },
    };
    synth({ modelPrices: JSON.stringify(table) }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EXECUTIONS_TABLE_NAME: Match.anyValue(),
          MODEL_PRICES: JSON.stringify(table),
        }),
      },
    });
    const functions = synth().template.findResources('AWS::Lambda::Function', { ...HOUSE_FUNCTIONS });
    for (const fn of Object.values(functions))
      expect(fn.Properties.Environment.Variables).not.toHaveProperty('MODEL_PRICES');
  });

  it('defaults the raw retention to 90 days', () => {
    synth().template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RAW_RETENTION_DAYS: '90' }) },
    });
  });

  it('gives aggregate the Aggregates table, the metrics namespace and the stage', () => {
    synth({ stage: 'prod' }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AGGREGATES_TABLE_NAME: Match.anyValue(),
          METRICS_NAMESPACE: metricNames.namespace,
          STAGE: 'prod',
        }),
      },
    });
  });

  it('gives query both tables and the success-rate alarm name', () => {
    const { template } = synth();
    const alarm = logicalIdOf(template, 'AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('success rate below'),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EXECUTIONS_TABLE_NAME: Match.anyValue(),
          AGGREGATES_TABLE_NAME: Match.anyValue(),
          ALARM_NAME: { Ref: alarm },
        }),
      },
    });
  });

  it('keeps function logs in their own log groups with a retention', () => {
    const groups = synth().template.findResources('AWS::Logs::LogGroup');
    // four functions and the API access log
    expect(Object.keys(groups)).toHaveLength(5);
    for (const group of Object.values(groups)) expect(group.Properties.RetentionInDays).toBe(90);
  });

  it('feeds aggregate from the stream with the exactly-once delivery settings', () => {
    const { template } = synth();
    const dlq = logicalIdOf(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('dataexecutions'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 43200,
      ParallelizationFactor: 1,
      TumblingWindowInSeconds: 900,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
  });

  it('waits the batching window given by streamBatchingWindowSeconds, and only that', () => {
    const windows = (context: Record<string, unknown>) =>
      Object.values(synth(context).template.findResources('AWS::Lambda::EventSourceMapping')).map(
        (mapping) => mapping.Properties.MaximumBatchingWindowInSeconds,
      );
    expect(windows({})).toEqual([1]);
    // 0, Lambda's own default for streams: invoke as soon as a poll finds records.
    expect(windows({ streamBatchingWindowSeconds: '0' })).toEqual([0]);
    expect(windows({ streamBatchingWindowSeconds: '5' })).toEqual([5]);
    expect(windows({ streamBatchingWindowSeconds: 300 })).toEqual([300]);
  });

  it('tells npm run rebuild the least settle window for the stack: its batching window plus 59 s', () => {
    const settle = (context: Record<string, unknown>) =>
      synth(context).template.findOutputs('RebuildMinSettleSeconds').RebuildMinSettleSeconds?.Value;
    // 60 s with the default 1 s window: the rebuild's own default.
    expect(settle({})).toBe('60');
    expect(settle({ streamBatchingWindowSeconds: '0' })).toBe('59');
    expect(settle({ streamBatchingWindowSeconds: '300' })).toBe('359');
  });

  it('encrypts the dead-letter queue and refuses plain-HTTP access to it', () => {
    const { template } = synth();
    const dlq = logicalIdOf(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlq }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('least privilege', () => {
  const roleStatements = (roleMatch: string) => {
    const { template } = synth();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp(roleMatch) }] },
    });
    return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement) as {
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
  };
  const actions = (statements: { Action: string | string[] }[]) =>
    statements.flatMap((s) => [s.Action].flat()).sort();

  it('never allows a wildcard action', () => {
    for (const statement of policyStatements(synth().template)) {
      for (const action of [statement.Action].flat()) {
        if (
          action.startsWith('dynamodb:') ||
          action.startsWith('cloudwatch:') ||
          action.startsWith('logs:')
        ) {
          expect(action).not.toContain('*');
        }
        expect(action).not.toBe('*');
      }
    }
  });

  const definedActions = (name: FunctionName) =>
    functionPermissions[name].flatMap((grant) => [...grant.actions]);

  it('grants each function exactly the DynamoDB and CloudWatch actions of its permission definition', () => {
    const roles = {
      ingest: 'apiingestrole',
      query: 'apiqueryrole',
      aggregate: 'aggregationaggregaterole',
      audit: 'aggregateauditauditrole',
    };
    for (const [name, role] of Object.entries(roles) as [FunctionName, string][]) {
      const granted = actions(roleStatements(role)).filter(
        (action) =>
          ![
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ].includes(action) &&
          (action.startsWith('dynamodb:') || action === 'cloudwatch:DescribeAlarms'),
      );
      expect(granted, name).toEqual(definedActions(name).sort());
    }
  });

  it('lets ingest only put and get items of the Executions table', () => {
    const statements = roleStatements('apiingestrole');
    expect(actions(statements)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(statements.find((s) => [s.Action].flat().includes('dynamodb:PutItem'))?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^dataexecutions/), 'Arn'],
    });
  });

  it('lets aggregate update Aggregates, read the stream and fill its DLQ; its metrics need no grant (EMF)', () => {
    const statements = roleStatements('aggregationaggregaterole');
    expect(actions(statements)).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    expect(statements.find((s) => [s.Action].flat().includes('dynamodb:UpdateItem'))?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^dataaggregates/), 'Arn'],
    });
    expect(statements.find((s) => [s.Action].flat().includes('dynamodb:GetRecords'))?.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^dataexecutions/), 'StreamArn'],
    });
  });

  it('lets query read Aggregates (batch reads of edge hours included), query only the byStartTime index of Executions, and describe only its alarm', () => {
    const statements = roleStatements('apiqueryrole');
    expect(actions(statements)).toEqual([
      'cloudwatch:DescribeAlarms',
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    const resources = statements.map((s) => JSON.stringify(s.Resource));
    expect(resources.some((r) => /dataaggregates.*"Arn"/.test(r))).toBe(true);
    expect(resources.some((r) => /dataexecutions.*\/index\/byStartTime/.test(r))).toBe(true);
    expect(resources.some((r) => /dataexecutions[^/]*"Arn"\]\}$/.test(r))).toBe(false);
    expect(resources.some((r) => /alarmssuccessrate.*"Arn"/.test(r))).toBe(true);
  });

  it('lets the audit only query Aggregates and the byStartTime index of Executions: it reads, never writes', () => {
    const statements = roleStatements('aggregateauditauditrole');
    expect(actions(statements)).toEqual([
      'dynamodb:Query',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    const resources = statements.map((s) => JSON.stringify(s.Resource));
    expect(resources.some((r) => /dataaggregates.*"Arn"\]\}$/.test(r))).toBe(true);
    expect(resources.some((r) => /dataexecutions.*\/index\/byStartTime/.test(r))).toBe(true);
    expect(resources.some((r) => /dataexecutions[^/]*"Arn"\]\}$/.test(r))).toBe(false);
  });

  it.each([
    ['prod', 'Retain'],
    ['dev', 'Delete'],
  ])('%s keeps every log group of the API and the functions on stack deletion: %s', (stage, policy) => {
    const groups = synth({ stage }).template.findResources('AWS::Logs::LogGroup');
    const ids = Object.keys(groups).filter((id) => /^(api|aggregat)/.test(id));
    expect(ids.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'aggregateauditauditlogs',
      'aggregationaggregatelogs',
      'apiaccesslogs',
      'apiingestlogs',
      'apiquerylogs',
    ]);
    for (const id of ids) {
      expect(groups[id]).toMatchObject({ DeletionPolicy: policy, UpdateReplacePolicy: policy });
      expect(groups[id]!.Properties.RetentionInDays).toBe(90);
    }
  });

  it('grants cloudwatch:PutMetricData to no one: custom metrics are EMF log lines', () => {
    const all = policyStatements(synth().template).flatMap((s) => [s.Action].flat());
    expect(all).not.toContain('cloudwatch:PutMetricData');
  });

  it('gives no function role an AWS managed policy', () => {
    const roles = synth().template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: Match.objectLike({}),
        Description: Match.stringLikeRegexp('^Runs '),
      },
    });
    expect(Object.keys(roles)).toHaveLength(4);
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});
