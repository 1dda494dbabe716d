/**
 * Environment of the functions, checked once at cold start: a missing table
 * name fails the first invocation loudly instead of the hundredth quietly.
 */
import { z } from 'zod';
import defaultModelPrices from '../config/model-prices.json';
import { runLimitsSchema } from './domain/execution';
import { modelPricesSchema } from './domain/pricing';

const tableName = z.string().min(1);
/** Days raw runs are kept (their TTL) unless the stack says otherwise (lib/config.ts). */
export const DEFAULT_RAW_RETENTION_DAYS = 90;
const rawRetentionDays = z.coerce.number().int().min(1).max(3650).default(DEFAULT_RAW_RETENTION_DAYS);

/** Namespace and `Stage` dimension of the custom metrics (EMF) every function emits. */
const metricsEnvironment = {
  METRICS_NAMESPACE: z.string().min(1).default('FixerAgent'),
  STAGE: z.string().min(1).default('local'),
};

/** A variable holding a JSON object, parsed; `fallback` when it is not set. */
const jsonVariable = (name: string, fallback: unknown) =>
  z
    .string()
    .optional()
    .transform((text, context): unknown => {
      if (text === undefined) return fallback;
      try {
        return JSON.parse(text);
      } catch {
        context.addIssue({ code: 'custom', message: `${name} must be a JSON object` });
        return z.NEVER;
      }
    });

const ingestEnvironment = z.object({
  EXECUTIONS_TABLE_NAME: tableName,
  RAW_RETENTION_DAYS: rawRetentionDays,
  /** Plausibility limits of a run, a JSON object such as {"maxDurationHours":48}; see docs/QUERY.md. */
  RUN_LIMITS: jsonVariable('RUN_LIMITS', {}).pipe(runLimitsSchema),
  /**
   * The model price table as JSON (CDK context `modelPrices`, checked at
   * synth); absent: config/model-prices.json, bundled. See docs/API.md.
   */
  MODEL_PRICES: jsonVariable('MODEL_PRICES', defaultModelPrices).pipe(modelPricesSchema),
  ...metricsEnvironment,
});

const aggregateEnvironment = z.object({
  AGGREGATES_TABLE_NAME: tableName,
  ...metricsEnvironment,
});

const queryEnvironment = z.object({
  EXECUTIONS_TABLE_NAME: tableName,
  AGGREGATES_TABLE_NAME: tableName,
  /** Name of the CloudWatch success-rate alarm; absent locally. */
  ALARM_NAME: z.string().min(1).optional(),
  ...metricsEnvironment,
});

const auditEnvironment = z.object({
  EXECUTIONS_TABLE_NAME: tableName,
  AGGREGATES_TABLE_NAME: tableName,
  RAW_RETENTION_DAYS: rawRetentionDays,
  /** Quiet time before an item is compared: the stack's RebuildMinSettleSeconds. */
  AUDIT_SETTLE_SECONDS: z.coerce.number().int().min(1).max(600),
  ...metricsEnvironment,
});

function load<T extends z.ZodType>(schema: T, name: string): z.output<T> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid ${name} environment: ${problems}`);
  }
  return parsed.data;
}

export const loadIngestConfig = () => load(ingestEnvironment, 'ingest');
export const loadAggregateConfig = () => load(aggregateEnvironment, 'aggregate');
export const loadQueryConfig = () => load(queryEnvironment, 'query');
export const loadAuditConfig = () => load(auditEnvironment, 'audit');
