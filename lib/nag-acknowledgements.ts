import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { FixerMetricsStack } from './fixer-metrics-stack';

/**
 * Every cdk-nag (AwsSolutions) finding this design accepts, in one place for
 * review, each with the reason it is accepted. Anything not listed here fails
 * the synth.
 */
export function acknowledgeFindings(stack: FixerMetricsStack): void {
  const config = stack.config;

  for (const fn of Object.values(stack.functions)) {
    ack(
      fn,
      'AwsSolutions-L1',
      'Node.js 22 is a supported Lambda runtime (deprecation scheduled for 2027) and the one the handlers are built (esbuild target node22) and tested for; moving to a newer runtime is a one-line change in lib/constructs/house-function.ts once it is tested.',
    );
  }

  ack(
    stack.aggregation.aggregateFunction.role!.node.findChild('DefaultPolicy'),
    'AwsSolutions-IAM5[Resource::*]',
    'dynamodb:ListStreams has no resource-level permission; the event source mapping adds it, and the actions that read records are scoped to the stream ARN.',
  );

  ack(
    stack.aggregation.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue is itself the on-failure destination (dead-letter queue) of the stream mapping; a DLQ of a DLQ would only move the same messages again. Its depth pages on-call.',
  );

  ack(
    stack.api.httpApi.node.findChild('GET--api--health'),
    'AwsSolutions-APIG4',
    'GET /api/health is open on purpose for load balancer and uptime probes; it returns only {"status":"ok"} and no data.',
  );
  if (config.auth === 'none') {
    for (const child of stack.api.httpApi.node.children) {
      if (child.node.id.startsWith('GET--api--') && child.node.id !== 'GET--api--health') {
        ack(
          child,
          'AwsSolutions-APIG4',
          'The deployer turned reader auth off explicitly (context auth=none) and the synth prints a warning; meant only for throwaway test stacks.',
        );
      }
    }
  }

  if (stack.auth.userPool) {
    ack(
      stack.auth.userPool,
      'AwsSolutions-COG8',
      'Readers are a small, admin-invited internal group with MFA (TOTP) required and self sign-up off; the Plus tier adds per-user threat protection charges. Switch featurePlan to PLUS in lib/constructs/reader-auth.ts if policy requires it.',
    );
  }

  const distribution = stack.site.distribution;
  if (!config.certificateArn) {
    ack(
      distribution,
      'AwsSolutions-CFR4',
      'Without a custom domain the distribution uses the *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1; browsers negotiate TLS 1.2+ anyway. Set domainName and certificateArn to enforce TLSv1.2_2021 (this finding then clears).',
    );
  }
  ack(
    distribution,
    'AwsSolutions-CFR1',
    'Readers are the operating team wherever they work; no legal or business reason to block countries. The data routes require sign-in.',
  );
  if (!config.webAclArn) {
    ack(
      distribution,
      'AwsSolutions-CFR2',
      'The origins are a private bucket of static files and an API that requires IAM or JWT auth and is throttled per stage; a WAF WebACL (fixed monthly cost) is optional: pass context webAclArn to attach one.',
    );
  }

  // The Lambda function behind BucketDeployment is created and owned by aws-cdk-lib.
  for (const construct of stack.node.children) {
    if (!construct.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    ack(
      construct,
      'AwsSolutions-L1',
      'The BucketDeployment function is managed by aws-cdk-lib, which chooses and upgrades its runtime; it runs only during deployments.',
    );
    const role = construct.node.findChild('ServiceRole');
    ack(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'aws-cdk-lib attaches the basic execution (logging) policy to its BucketDeployment function; it grants only CloudWatch Logs writes.',
    );
    const policy = role.node.findChild('DefaultPolicy');
    for (const finding of [
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
      `Resource::<${stack.getLogicalId(stack.site.bucket.node.defaultChild as CfnElement)}.Arn>/*`,
      'Resource::*',
    ]) {
      ack(
        policy,
        `AwsSolutions-IAM5[${finding}]`,
        'aws-cdk-lib generates this policy for BucketDeployment: it copies the dashboard assets from the CDK asset bucket into the site bucket (object-level wildcards on those two buckets only) and creates a CloudFront invalidation (no resource-level permission exists for it).',
      );
    }
  }
}

function ack(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
}
