/**
 * The daily aggregate audit, run by an EventBridge schedule
 * (lib/constructs/aggregate-audit.ts): `npm run rebuild -- --check` for the
 * days of domain/aggregate-audit.ts, in Lambda. It reads, never writes; the
 * count of settled items that differ from a recomputation is the metric
 * AggregateMismatches, which pages (lib/constructs/alarms.ts). The repair is
 * the runbook's rebuild (docs/REBUILD.md).
 *
 * Invoked by hand with `{"days": ["2026-11-30", …]}` it checks those days.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { DEFAULT_RAW_RETENTION_DAYS, loadAuditConfig } from './config';
import { AUDIT_ROUNDS, auditedDays, MAX_AUDITED_DAYS } from './domain/aggregate-audit';
import { metricNames } from './domain/alarm-rule';
import { isCalendarDate } from './domain/local-time';
import { DEFAULT_BATCHING_WINDOW_SECONDS, minimumSettleSeconds } from './domain/stream-batch';
import { type DayReport, EXTENT_ONLY, firstExpiredDay, rebuildDay } from './store/aggregates-rebuild';
import { type EmfSink, MetricsEmitter } from './store/metrics-emitter';

const logger = new Logger({ serviceName: 'fixer-metrics-audit' });

/** An EventBridge scheduled event (its `time`), or a hand-made one naming the days. */
const auditEventSchema = z.object({
  time: z.iso.datetime({ offset: true }).optional(),
  days: z
    .array(z.string().refine(isCalendarDate, 'a day is YYYY-MM-DD'))
    .min(1)
    .max(MAX_AUDITED_DAYS)
    .optional(),
});

export interface AuditResult {
  readonly days: readonly string[];
  /** Days skipped because their runs may already be deleted by TTL. */
  readonly expiredDays: readonly string[];
  readonly runs: number;
  /** Settled items whose counts differ from the recomputation, as `pk/sk`. */
  readonly differing: readonly string[];
  /**
   * Settled items whose counts are right but whose shortest or longest run
   * is one a correction or deletion took away: expected (a write widens an
   * item's extremes, never narrows them) until a rebuild; not a mismatch.
   */
  readonly extentOnly: number;
  /** Items that kept changing: checked again by the next audit. */
  readonly stillChanging: number;
}

export interface AuditDependencies {
  /**
   * The SDK's own retries (standard mode), as `npm run rebuild` has: the
   * audit reads a whole day at once and a throttle should slow it, not fail it.
   * @default a new DynamoDBClient
   */
  readonly client?: DynamoDBClient;
  readonly executionsTableName?: string;
  readonly aggregatesTableName?: string;
  /** @default the settle window of the default batching window (60 s) */
  readonly settleSeconds?: number;
  /** @default the environment's RAW_RETENTION_DAYS, or its default */
  readonly retentionDays?: number;
  readonly metricsNamespace?: string;
  readonly stage?: string;
  /** Where the EMF document goes. @default stdout (see metrics-emitter.ts) */
  readonly emfSink?: EmfSink;
  readonly now?: () => number;
}

/** The audit handler; dependencies not given come from the environment (config.ts). */
export function createAuditHandler(dependencies: AuditDependencies = {}) {
  const config = dependencies.executionsTableName === undefined ? loadAuditConfig() : undefined;
  const client = dependencies.client ?? new DynamoDBClient({});
  const now = dependencies.now ?? Date.now;
  const metrics = new MetricsEmitter({
    namespace: dependencies.metricsNamespace ?? config?.METRICS_NAMESPACE ?? metricNames.namespace,
    stage: dependencies.stage ?? config?.STAGE ?? 'local',
    logger,
    ...(dependencies.emfSink ? { sink: dependencies.emfSink } : {}),
  });
  const tables = {
    client,
    executionsTable: dependencies.executionsTableName ?? config?.EXECUTIONS_TABLE_NAME ?? '',
    aggregatesTable: dependencies.aggregatesTableName ?? config?.AGGREGATES_TABLE_NAME ?? '',
  };
  const settleMs =
    (dependencies.settleSeconds ??
      config?.AUDIT_SETTLE_SECONDS ??
      minimumSettleSeconds(DEFAULT_BATCHING_WINDOW_SECONDS)) * 1000;
  const retentionDays =
    dependencies.retentionDays ?? config?.RAW_RETENTION_DAYS ?? DEFAULT_RAW_RETENTION_DAYS;

  return async (rawEvent: unknown): Promise<AuditResult> => {
    const event = auditEventSchema.parse(rawEvent ?? {});
    const nowMs = now();
    const requested = event.days ?? auditedDays(event.time ? Date.parse(event.time) : nowMs);
    const expired = firstExpiredDay(nowMs, retentionDays);
    const days = requested.filter((day) => day > expired);
    const expiredDays = requested.filter((day) => day <= expired);
    // Days apart are independent items: checked side by side, each waits its settle window once.
    const reports: DayReport[] = await Promise.all(
      days.map((day) =>
        rebuildDay({ ...tables, days, settleMs, rounds: AUDIT_ROUNDS, checkOnly: true, now }, day),
      ),
    );
    const found = reports.flatMap((report) => report.rewritten);
    const differing = found.filter((item) => !item.endsWith(EXTENT_ONLY));
    const result: AuditResult = {
      days,
      expiredDays,
      runs: reports.reduce((sum, report) => sum + report.runs, 0),
      differing,
      extentOnly: found.length - differing.length,
      stillChanging: reports.reduce((sum, report) => sum + report.live.length, 0),
    };
    // A figure only for days that were checked: none checked is no evidence either way.
    if (days.length > 0)
      metrics.emit([
        {
          samples: [{ name: metricNames.aggregateMismatches, unit: 'Count', value: differing.length }],
        },
      ]);
    if (differing.length > 0)
      logger.error(
        'aggregate items differ from the Executions table: run npm run rebuild (docs/REBUILD.md)',
        {
          ...result,
          differing: differing.slice(0, 50),
        },
      );
    else logger.info('aggregate audit: no settled item differs', { ...result });
    return result;
  };
}

let deployed: ReturnType<typeof createAuditHandler> | undefined;

/** The deployed entry point (configured from the environment at first call). */
export const handler = (event: unknown): Promise<AuditResult> => {
  deployed ??= createAuditHandler();
  return deployed(event);
};
