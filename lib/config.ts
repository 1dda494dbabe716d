import type { Node } from 'constructs';
import { DEFAULT_RAW_RETENTION_DAYS } from '../functions/config';
import { type RunLimits, runLimitsSchema } from '../functions/domain/execution';
import { parsePriceTable } from '../functions/domain/pricing';
import { DEFAULT_BATCHING_WINDOW_SECONDS } from '../functions/domain/stream-batch';

/** Who may read the dashboard API. */
export type AuthMode = 'cognito' | 'oidc' | 'none';

/** A deployment stage; `prod` turns on the data-safety guards. */
type Stage = 'dev' | 'prod';

/**
 * Every deploy-time choice, read once from CDK context (cdk.json or `-c key=value`)
 * and validated, so that a typo fails the synth instead of deploying something else.
 * The README's deploy table lists each key with its default.
 */
export interface MetricsConfig {
  readonly stage: Stage;
  /** Days a raw run is kept before DynamoDB TTL deletes it; aggregates are kept forever. */
  readonly rawRetentionDays: number;
  /** Days CloudWatch keeps function and access logs. */
  readonly logRetentionDays: number;
  /** Plausibility limits of a posted run (context `runLimits`, an object or its JSON). */
  readonly runLimits: RunLimits;
  /**
   * The model price table that estimates the cost of runs that report none
   * (context `modelPrices`, an object or its JSON, replacing
   * config/model-prices.json), as the JSON handed to the ingest function;
   * undefined: the bundled default table.
   */
  readonly modelPricesJson: string | undefined;
  readonly alarmEmails: readonly string[];
  /** HTTPS endpoints (a pager's SNS webhook) that receive alarm and OK notifications. */
  readonly pagerUrls: readonly string[];
  readonly auth: AuthMode;
  /** Issuer URL of an existing OIDC provider; only with auth=oidc. */
  readonly oidcIssuer?: string;
  /** Audience (the `aud` or `client_id` claim) the JWT authorizer accepts; only with auth=oidc. */
  readonly oidcAudience?: string;
  /** OAuth client id the dashboard signs in with; only with auth=oidc. */
  readonly oidcClientId?: string;
  /** Prefix of the Cognito hosted sign-in domain; only with auth=cognito. */
  readonly cognitoDomainPrefix?: string;
  /** Steady-state requests per second of a route without a limit of its own (the stage default). */
  readonly throttleRateLimit: number;
  /** Burst of a route without a limit of its own. */
  readonly throttleBurstLimit: number;
  /** Limits of POST /api/executions and, apart, of POST /v1/traces: the agents. */
  readonly ingestThrottle: RouteThrottle;
  /** Limits of each dashboard read route (GET /api/summary, /api/runs, ...), each route on its own. */
  readonly readThrottle: RouteThrottle;
  /** Limits of the open GET /api/health: probes need a few requests a minute. */
  readonly healthThrottle: RouteThrottle;
  /**
   * Reserved concurrency of the query function: readers never hold more
   * instances than this, so they cannot take the account's concurrency from
   * ingest and aggregation. `undefined` (context `none`) reserves nothing.
   */
  readonly queryReservedConcurrency: number | undefined;
  /**
   * Seconds the stream's event source mapping waits to fill a batch
   * (MaximumBatchingWindowInSeconds, 0 to 300). Each batch costs one write
   * per aggregate item it touches, so a longer wait means fewer, larger
   * batches (fewer write units per run) and figures that reach the dashboard
   * later: see the README's deploy table.
   */
  readonly streamBatchingWindowSeconds: number;
  /** Custom domain for the dashboard; needs certificateArn. */
  readonly domainName?: string;
  /** ACM certificate in us-east-1 covering domainName. */
  readonly certificateArn?: string;
  /** ARN of an existing WAF WebACL (scope CLOUDFRONT, us-east-1) to attach to the distribution. */
  readonly webAclArn?: string;
}

/** API Gateway token bucket of one route. */
export interface RouteThrottle {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Bucket size: requests allowed at once above the steady rate. */
  readonly burstLimit: number;
}

/** Defaults for every optional key; the README's deploy table repeats them. */
const configDefaults = {
  stage: 'dev',
  rawRetentionDays: DEFAULT_RAW_RETENTION_DAYS,
  logRetentionDays: 90,
  auth: 'cognito',
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  // 50 POSTs of up to 100 runs each: 5,000 runs/s, well above one agent fleet's needs.
  ingestRateLimit: 50,
  ingestBurstLimit: 100,
  // A dashboard refresh is one request per read route; 10/s per route serves dozens of open dashboards.
  readRateLimit: 10,
  readBurstLimit: 20,
  // Probes: one request every few seconds is plenty.
  healthRateLimit: 2,
  healthBurstLimit: 5,
  // ~10 concurrent reads × a few hundred ms each ≈ 30–100 reads/s; see the README's deploy table.
  queryReservedConcurrency: 10,
  // Runs reach the dashboard about a second after they are stored, for a fraction of the writes of 0 (ADR 0001).
  streamBatchingWindowSeconds: DEFAULT_BATCHING_WINDOW_SECONDS,
} as const;

/** A context value that cannot be used as given. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type ContextReader = Pick<Node, 'tryGetContext'>;

/** Reads and validates the context keys of this app. */
export function readConfig(node: ContextReader): MetricsConfig {
  const get = (key: string): unknown => {
    const value: unknown = node.tryGetContext(key);
    return value === '' ? undefined : value;
  };

  const stage = oneOf(get('stage') ?? configDefaults.stage, ['dev', 'prod'] as const, 'stage');
  const auth = oneOf(get('auth') ?? configDefaults.auth, ['cognito', 'oidc', 'none'] as const, 'auth');

  const config: MetricsConfig = {
    stage,
    rawRetentionDays: integer(
      get('rawRetentionDays'),
      configDefaults.rawRetentionDays,
      'rawRetentionDays',
      1,
      3650,
    ),
    logRetentionDays: integer(
      get('logRetentionDays'),
      configDefaults.logRetentionDays,
      'logRetentionDays',
      1,
      3653,
    ),
    runLimits: runLimits(get('runLimits')),
    modelPricesJson: modelPricesJson(get('modelPrices')),
    alarmEmails: [...list(get('alarmEmails')), ...list(get('alarmEmail'))],
    pagerUrls: [...list(get('pagerUrls')), ...list(get('pagerUrl'))],
    auth,
    oidcIssuer: optionalString(get('oidcIssuer'), 'oidcIssuer'),
    oidcAudience: optionalString(get('oidcAudience'), 'oidcAudience'),
    oidcClientId: optionalString(get('oidcClientId'), 'oidcClientId'),
    cognitoDomainPrefix: optionalString(get('cognitoDomainPrefix'), 'cognitoDomainPrefix'),
    throttleRateLimit: integer(
      get('throttleRateLimit'),
      configDefaults.throttleRateLimit,
      'throttleRateLimit',
      1,
      10000,
    ),
    throttleBurstLimit: integer(
      get('throttleBurstLimit'),
      configDefaults.throttleBurstLimit,
      'throttleBurstLimit',
      1,
      5000,
    ),
    ingestThrottle: routeThrottle(get, 'ingest'),
    readThrottle: routeThrottle(get, 'read'),
    healthThrottle: routeThrottle(get, 'health'),
    queryReservedConcurrency:
      get('queryReservedConcurrency') === 'none'
        ? undefined
        : integer(
            get('queryReservedConcurrency'),
            configDefaults.queryReservedConcurrency,
            'queryReservedConcurrency',
            1,
            1000,
          ),
    streamBatchingWindowSeconds: integer(
      get('streamBatchingWindowSeconds'),
      configDefaults.streamBatchingWindowSeconds,
      'streamBatchingWindowSeconds',
      0,
      300,
    ),
    domainName: optionalString(get('domainName'), 'domainName'),
    certificateArn: optionalString(get('certificateArn'), 'certificateArn'),
    webAclArn: optionalString(get('webAclArn'), 'webAclArn'),
  };

  for (const email of config.alarmEmails) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new ConfigError(`alarmEmails: "${email}" is not an email address`);
  }
  for (const url of config.pagerUrls) {
    if (!url.startsWith('https://')) throw new ConfigError(`pagerUrls: "${url}" must be an https:// URL`);
  }
  if (auth === 'oidc') {
    if (!config.oidcIssuer?.startsWith('https://')) {
      throw new ConfigError('auth=oidc needs oidcIssuer, an https:// issuer URL');
    }
    if (!config.oidcAudience) throw new ConfigError('auth=oidc needs oidcAudience');
  }
  if ((config.domainName === undefined) !== (config.certificateArn === undefined)) {
    throw new ConfigError('domainName and certificateArn go together: give both or neither');
  }
  if (config.certificateArn && !config.certificateArn.startsWith('arn:aws:acm:us-east-1:')) {
    throw new ConfigError(
      'certificateArn must be an ACM certificate in us-east-1 (CloudFront reads only that region)',
    );
  }
  if (config.webAclArn && !config.webAclArn.startsWith('arn:aws:wafv2:us-east-1:')) {
    throw new ConfigError('webAclArn must be a WAFv2 WebACL in us-east-1 (scope CLOUDFRONT)');
  }
  if (
    config.cognitoDomainPrefix &&
    !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(config.cognitoDomainPrefix)
  ) {
    throw new ConfigError('cognitoDomainPrefix: lowercase letters, digits and hyphens only');
  }
  return config;
}

/** Context keys `<route>RateLimit` and `<route>BurstLimit`. */
function routeThrottle(get: (key: string) => unknown, route: 'ingest' | 'read' | 'health'): RouteThrottle {
  const rateKey = `${route}RateLimit` as const;
  const burstKey = `${route}BurstLimit` as const;
  return {
    rateLimit: integer(get(rateKey), configDefaults[rateKey], rateKey, 1, 10000),
    burstLimit: integer(get(burstKey), configDefaults[burstKey], burstKey, 1, 5000),
  };
}

/** A context value that holds an object: as given (cdk.json) or its JSON (`-c key='{...}'`). */
function objectOrJson(value: unknown, key: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`${key} must be a JSON object, got "${value.slice(0, 100)}"`);
  }
}

function runLimits(value: unknown): RunLimits {
  const parsed = runLimitsSchema.safeParse(objectOrJson(value, 'runLimits'));
  if (!parsed.success)
    throw new ConfigError(`runLimits: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return parsed.data;
}

/**
 * Bytes the price table may take in the ingest function's environment:
 * Lambda allows 4 KB for all variables, and the others take a few hundred.
 */
const MODEL_PRICES_MAX_BYTES = 3_000;

function modelPricesJson(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const table = objectOrJson(value, 'modelPrices');
  const parsed = parsePriceTable(table);
  if (!parsed.ok) throw new ConfigError(`modelPrices: ${parsed.problems.join('; ')}`);
  const json = JSON.stringify(table);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MODEL_PRICES_MAX_BYTES)
    throw new ConfigError(
      `modelPrices must be at most ${MODEL_PRICES_MAX_BYTES} bytes of JSON (a Lambda environment holds 4 KB), got ${bytes}`,
    );
  return json;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${key} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
}

function integer(value: unknown, fallback: number, key: string, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ConfigError(`${key} must be a string`);
  return value.trim() || undefined;
}

/** A list from cdk.json (array) or from `-c key=a,b` (comma-separated string). */
function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}
