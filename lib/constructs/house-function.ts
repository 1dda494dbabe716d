import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { metricNames } from '../../functions/domain/alarm-rule';
import type { Grant, TableName } from '../../functions/store/permissions';

/** Props of {@link HouseFunction}. */
export interface HouseFunctionProps {
  /** Absolute path of the TypeScript entry file; it must export `handler`. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** Deployment stage: the `Stage` dimension of every custom metric the function emits (STAGE). */
  readonly stage: string;
  /**
   * Memory in MB; CPU scales with it.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Hard time limit of one invocation.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables besides the ones every function gets
   * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, NODE_OPTIONS,
   * METRICS_NAMESPACE, STAGE).
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * Days CloudWatch keeps the function's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted: prod keeps its
   * logs (RETAIN), a dev stack takes them along.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Instances reserved for (and the most ever run by) this function.
   * @default none: the function shares the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** Shared by every function: the metrics platform is one Powertools service (also the metrics' `service` dimension). */
const SERVICE_NAME = metricNames.service;

// esbuild's ESM output cannot `require` Node built-ins from bundled CommonJS
// dependencies; giving the module a real `require` fixes "Dynamic require of
// 'x' is not supported" at cold start.
const REQUIRE_BANNER =
  "import { createRequire as __houseCreateRequire } from 'node:module'; const require = __houseCreateRequire(import.meta.url);";

/**
 * The one way this project makes a Lambda function: Node.js 22 on arm64, an ESM
 * bundle built by the esbuild in node_modules (never Docker), source maps, its
 * own log group with a retention, and a role that starts with nothing but the
 * right to write that log group. Callers add every other permission by hand.
 */
export class HouseFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    // The log group and role live beside the function (not inside it) because
    // they must exist before `super` is called.
    const logGroup = new logs.LogGroup(scope, `${id}-logs`, {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // A hand-made role instead of the default one: the default attaches the
    // AWSLambdaBasicExecutionRole managed policy, which may write any log group.
    const role = new iam.Role(scope, `${id}-role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${id}: ${props.description}`,
    });
    logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');

    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        // Stack traces point at the TypeScript sources, not the bundle.
        NODE_OPTIONS: '--enable-source-maps',
        // Custom metrics are EMF lines on stdout (functions/store/metrics-emitter.ts): no grant needed.
        METRICS_NAMESPACE: metricNames.namespace,
        STAGE: props.stage,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        // Ship the SDK version the tests ran against, not whatever version the
        // managed runtime happens to carry this month.
        bundleAwsSDK: true,
      },
    });
  }

  /** Allows exactly `actions` on exactly `resources`. */
  allow(actions: string[], resources: string[]): void {
    this.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  }

  /**
   * Turns the function's permission definition (functions/store/permissions.ts)
   * into one statement per grant, so the role is exactly what the local runtime
   * enforces.
   */
  grantFromDefinition(grants: readonly Grant[], resources: PermissionResources): void {
    for (const grant of grants) {
      if ('alarm' in grant) {
        const alarmArn = resources.alarms?.[grant.alarm];
        if (alarmArn === undefined) throw new Error(`${this.node.id}: no ARN given for alarm ${grant.alarm}`);
        this.allow([...grant.actions], [alarmArn]);
        continue;
      }
      const tableArn = resources.tables[grant.table];
      this.allow([...grant.actions], [grant.index ? `${tableArn}/index/${grant.index}` : tableArn]);
    }
  }
}

/** The deployed ARNs the names of a permission definition stand for. */
export interface PermissionResources {
  readonly tables: Readonly<Record<TableName, string>>;
  /** Needed only by a function whose definition names an alarm. */
  readonly alarms?: { readonly successRate: string };
}
