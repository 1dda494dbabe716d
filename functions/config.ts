/**
 * Environment of the functions, checked once at cold start: a missing table
 * name fails the first invocation loudly instead of the hundredth quietly.
 */
import { z } from 'zod';
import { runLimitsSchema } from './domain/execution';

const tableName = z.string().min(1);

/** Namespace and `Stage` dimension of the custom metrics (EMF) every function emits. */
const metricsEnvironment = {
  METRICS_NAMESPACE: z.string().min(1).default('FixerAgent'),
  STAGE: z.string().min(1).default('local'),
};

const ingestEnvironment = z.object({
  EXECUTIONS_TABLE_NAME: tableName,
  RAW_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Plausibility limits of a run, a JSON object such as {"maxDurationHours":48}; see docs/QUERY.md. */
  RUN_LIMITS: z
    .string()
    .default('{}')
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'RUN_LIMITS must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(runLimitsSchema),
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
