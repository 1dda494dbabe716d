import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RunLimits } from '../../functions/domain/execution';
import { HEALTH_PATH, INGEST_PATH, READ_PATHS, TRACES_PATH } from '../../functions/http/routes';
import { functionPermissions } from '../../functions/store/permissions';
import type { RouteThrottle } from '../config';
import { functionEntry } from '../paths';
import { HouseFunction } from './house-function';

/** The read routes of API.md that need a signed-in user (shared with the handlers and `npm start`). */
export const readRoutes = READ_PATHS;

/** Props of {@link MetricsApi}. */
export interface MetricsApiProps {
  readonly executions: dynamodb.ITable;
  readonly aggregates: dynamodb.ITable;
  /** Days a raw run is kept (sets its TTL at ingest). */
  readonly rawRetentionDays: number;
  /** Plausibility limits of a posted run, handed to the ingest function as RUN_LIMITS. */
  readonly runLimits: RunLimits;
  /** The model price table's JSON, handed to the ingest function as MODEL_PRICES; undefined: the bundled default. */
  readonly modelPricesJson: string | undefined;
  /** Authorizer of the read routes; undefined leaves them open. */
  readonly readAuthorizer?: apigw.IHttpRouteAuthorizer;
  /** Name and ARN of the success-rate alarm, which GET /api/alarm reports. */
  readonly successRateAlarm: { readonly name: string; readonly arn: string };
  /** Limits of a route without its own (the stage default). */
  readonly defaultThrottle: RouteThrottle;
  /** Limits of POST /api/executions. */
  readonly ingestThrottle: RouteThrottle;
  /** Limits of each read route, each on its own. */
  readonly readThrottle: RouteThrottle;
  /** Limits of GET /api/health. */
  readonly healthThrottle: RouteThrottle;
  /** Reserved concurrency of the query function; undefined reserves none. */
  readonly queryReservedConcurrency: number | undefined;
  /** Retention of function and access logs. */
  readonly logRetention: logs.RetentionDays;
  /** What happens to function and access logs when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /** The `Stage` dimension of the metrics the functions emit. */
  readonly stage: string;
}

/**
 * The HTTP API of API.md: POST /api/executions for agents (IAM, SigV4), the
 * read routes for the dashboard (JWT), GET /api/health open for probes.
 */
export class MetricsApi extends Construct {
  public readonly httpApi: apigw.HttpApi;
  public readonly stage: apigw.HttpStage;
  public readonly ingestFunction: HouseFunction;
  public readonly queryFunction: HouseFunction;
  /** Domain name of the execute-api endpoint, for the CloudFront origin. */
  public readonly endpointDomain: string;

  constructor(scope: Construct, id: string, props: MetricsApiProps) {
    super(scope, id);

    this.ingestFunction = new HouseFunction(this, 'ingest', {
      entry: functionEntry('ingest'),
      description: 'POST /api/executions: validates runs and stores them in the Executions table',
      stage: props.stage,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        EXECUTIONS_TABLE_NAME: props.executions.tableName,
        RAW_RETENTION_DAYS: String(props.rawRetentionDays),
        RUN_LIMITS: JSON.stringify(props.runLimits),
        ...(props.modelPricesJson === undefined ? {} : { MODEL_PRICES: props.modelPricesJson }),
      },
    });
    const resources = {
      tables: { Executions: props.executions.tableArn, Aggregates: props.aggregates.tableArn },
      alarms: { successRate: props.successRateAlarm.arn },
    };
    this.ingestFunction.grantFromDefinition(functionPermissions.ingest, resources);

    this.queryFunction = new HouseFunction(this, 'query', {
      entry: functionEntry('query'),
      description: 'GET /api/*: dashboard queries over the Aggregates table',
      memorySize: 512,
      stage: props.stage,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      // Readers get at most this many instances; the rest of the account's
      // concurrency stays free for ingest and the stream, whatever the dashboards do.
      reservedConcurrentExecutions: props.queryReservedConcurrency,
      environment: {
        EXECUTIONS_TABLE_NAME: props.executions.tableName,
        AGGREGATES_TABLE_NAME: props.aggregates.tableName,
        ALARM_NAME: props.successRateAlarm.name,
      },
    });
    this.queryFunction.grantFromDefinition(functionPermissions.query, resources);

    this.httpApi = new apigw.HttpApi(this, 'http-api', {
      description: 'Fixer agent metrics: ingest and dashboard queries',
      // The stage below replaces the default one because only an explicit stage
      // takes throttling and access-log settings.
      createDefaultStage: false,
    });

    const accessLogs = new logs.LogGroup(this, 'access-logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.stage = this.httpApi.addStage('default-stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.defaultThrottle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
            caller: '$context.identity.caller',
            user: '$context.authorizer.claims.sub',
          }),
        ),
      },
    });

    const ingest = new HttpLambdaIntegration('ingest-integration', this.ingestFunction);
    const query = new HttpLambdaIntegration('query-integration', this.queryFunction);

    const routes = [
      // Agents write through both: their runs as JSON, or their OpenTelemetry spans (OTLP/HTTP).
      ...[INGEST_PATH, TRACES_PATH].flatMap((path) =>
        this.httpApi.addRoutes({
          path,
          methods: [apigw.HttpMethod.POST],
          integration: ingest,
          authorizer: new HttpIamAuthorizer(),
        }),
      ),
      ...this.httpApi.addRoutes({
        path: HEALTH_PATH,
        methods: [apigw.HttpMethod.GET],
        integration: query,
        authorizer: new apigw.HttpNoneAuthorizer(),
      }),
      ...readRoutes.flatMap((path) =>
        this.httpApi.addRoutes({
          path,
          methods: [apigw.HttpMethod.GET],
          integration: query,
          authorizer: props.readAuthorizer ?? new apigw.HttpNoneAuthorizer(),
        }),
      ),
    ];

    // Agents, readers and probes get token buckets of their own, so a busy
    // dashboard or a probe storm cannot take the ingest route's share. The L2
    // stage sets only the default, hence the escape hatch; the stage must come
    // after the routes, or CloudFormation finds no route for a key.
    const cfnStage = this.stage.node.defaultChild as apigw.CfnStage;
    // routeSettings is untyped JSON in CfnStage: CloudFormation's own (capitalised) property names.
    const limits = ({ rateLimit, burstLimit }: RouteThrottle) => ({
      ThrottlingRateLimit: rateLimit,
      ThrottlingBurstLimit: burstLimit,
    });
    cfnStage.routeSettings = {
      [routeKey('POST', INGEST_PATH)]: limits(props.ingestThrottle),
      [routeKey('POST', TRACES_PATH)]: limits(props.ingestThrottle),
      [routeKey('GET', HEALTH_PATH)]: limits(props.healthThrottle),
      ...Object.fromEntries(readRoutes.map((path) => [routeKey('GET', path), limits(props.readThrottle)])),
    };
    for (const route of routes) cfnStage.node.addDependency(route);

    this.endpointDomain = `${this.httpApi.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
  }
}

/** The route key API Gateway names a route by, as in routeSettings. */
function routeKey(method: 'GET' | 'POST', path: string): string {
  return `${method} ${path}`;
}
