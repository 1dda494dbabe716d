/**
 * The Executions stream → counter aggregates, exactly once.
 * See functions/store/aggregates-store.ts for the exactly-once mechanism.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { loadAggregateConfig } from './config';
import { batchMetrics } from './domain/batch-metrics';
import { BoundedMap } from './domain/bounded-map';
import { ALL_MODELS, BatchAccumulator } from './domain/deltas';
import { type DaySpan, widenDaySpan } from './domain/models';
import { bucketKeyStartMs } from './domain/query-range';
import { paddedSequence } from './store/aggregate-keys';
import { AGGREGATE_WRITE_RETRY, applyPendingItems, registerModel } from './store/aggregates-store';
import { type EmfSink, MetricsEmitter } from './store/metrics-emitter';
import type { RetryOptions } from './store/retry';
import { type ReadRecord, readStreamRecord } from './store/stream-records';
import { recordUnwrittenItem } from './store/unwritten-items';

const logger = new Logger({ serviceName: 'fixer-metrics-aggregate' });

/** The stream event; `shardId` is present because the mapping uses a tumbling window (see lib/). */
export type AggregateEvent = DynamoDBStreamEvent & { shardId?: string };
export type AggregateResponse = DynamoDBBatchResponse & { state?: Record<string, unknown> };

export interface AggregateDependencies {
  readonly aggregatesTableName?: string;
  readonly metricsNamespace?: string;
  /** `Stage` dimension of the metrics. @default 'local' (with aggregatesTableName) */
  readonly stage?: string;
  /** Where the batch's EMF documents go. @default stdout (see metrics-emitter.ts) */
  readonly emfSink?: EmfSink;
  /** Backoff of the DynamoDB writes; tests pass one that does not sleep. @default AGGREGATE_WRITE_RETRY */
  readonly retry?: RetryOptions;
  /**
   * The clock watermarks are stamped with and aged by (epoch ms); tests pass
   * one that jumps past the horizon instead of waiting 13 hours. @default Date.now
   */
  readonly now?: () => number;
}

/** Time kept back from the invocation's deadline for the response. */
const DEADLINE_MARGIN_MS = 5_000;

/** Thrown when records arrive without the shard they came from. */
export class MissingShardIdError extends Error {
  override readonly name = 'MissingShardIdError';
}

const SEQUENCE_NUMBER = /^\d{1,40}$/;

/**
 * The records in sequence order; as delivered when they already are (the
 * usual case, and records without a valid sequence number, which are poison,
 * then keep their place).
 */
function inSequenceOrder(records: readonly DynamoDBRecord[]): readonly DynamoDBRecord[] {
  const sequence = (record: DynamoDBRecord) => {
    const text = record.dynamodb?.SequenceNumber ?? '';
    return SEQUENCE_NUMBER.test(text) ? paddedSequence(text) : '';
  };
  const valid = records.map(sequence).filter((padded) => padded !== '');
  if (valid.every((padded, index) => index === 0 || (valid[index - 1] as string) <= padded)) return records;
  return [...records].sort((a, b) => (sequence(a) < sequence(b) ? -1 : sequence(a) > sequence(b) ? 1 : 0));
}

export function createAggregateHandler(dependencies: AggregateDependencies) {
  const config =
    dependencies.aggregatesTableName !== undefined
      ? {
          AGGREGATES_TABLE_NAME: dependencies.aggregatesTableName,
          METRICS_NAMESPACE: dependencies.metricsNamespace ?? 'FixerAgent',
          STAGE: dependencies.stage ?? 'local',
        }
      : loadAggregateConfig();
  const tableName = config.AGGREGATES_TABLE_NAME;
  const metrics = new MetricsEmitter({
    namespace: config.METRICS_NAMESPACE,
    stage: config.STAGE,
    logger,
    ...(dependencies.emfSink ? { sink: dependencies.emfSink } : {}),
  });
  /** The days this container registered per model (registerModel); bounded, as a container lives long. */
  const registeredDays = new BoundedMap<string, DaySpan>(10_000);

  const baseRetry = dependencies.retry ?? AGGREGATE_WRITE_RETRY;

  return async function aggregate(
    event: AggregateEvent,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<AggregateResponse> {
    // With a deadline, transient errors are retried for as long as the
    // invocation allows (see "What it does not cover" in aggregates-store.ts).
    const retry: RetryOptions = context
      ? {
          ...baseRetry,
          attempts: 1_000,
          deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
        }
      : baseRetry;
    const records = event.Records ?? [];
    const { shardId } = event;
    if (records.length > 0 && !shardId) {
      // The watermarks are per shard; sharing one across shards would drop
      // records silently. Failing loudly keeps them in the stream until the
      // mapping is fixed (a tumbling window makes Lambda send shardId).
      throw new MissingShardIdError(
        'stream event has no shardId; configure a tumbling window on the mapping',
      );
    }
    const accumulator = new BatchAccumulator();
    const poison: { itemIdentifier: string }[] = [];
    // In sequence order whatever the delivery order: with a tumbling window,
    // records processed more than once "might be processed out of order"
    // (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html);
    // within a batch, sorting restores the order the accumulator needs.
    for (const record of inSequenceOrder(records)) {
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      const { change, poisonReason }: ReadRecord = SEQUENCE_NUMBER.test(sequence)
        ? readStreamRecord(record)
        : { poisonReason: 'record without a sequence number' };
      // Every record is counted, the ones after a poison record included:
      // Lambda retries from the lowest reported sequence number, and the
      // watermarks make that retry a no-op for everything already counted.
      if (change) accumulator.add(paddedSequence(sequence), change);
      if (poisonReason !== undefined) {
        logger.error('poison record', {
          sequenceNumber: sequence,
          eventID: record.eventID,
          reason: poisonReason,
        });
        poison.push({ itemIdentifier: sequence || (record.eventID ?? '') });
      }
    }

    // Models first, so that a model's counters are never readable before the
    // registry lists the model with their day. Only days past what this
    // container registered are sent: about one write per model and day.
    await Promise.all(
      [...accumulator.modelDays()].map(async ([model, span]) => {
        const known = registeredDays.get(model);
        const days = {
          ...(known === undefined || span.first < known.first ? { first: span.first } : {}),
          ...(known === undefined || span.last > known.last ? { last: span.last } : {}),
        };
        if (days.first === undefined && days.last === undefined) return;
        await registerModel(tableName, model, days, retry);
        registeredDays.set(model, widenDaySpan(known, span));
      }),
    );

    const results = await applyPendingItems(tableName, shardId ?? '', accumulator.pendingItems(), {
      retry,
      now: dependencies.now,
    });
    // An item DynamoDB refuses to write (ValidationException: it would pass
    // 400 KB, …) is refused again on every retry, so failing the batch would
    // only stall the shard until the records reach the on-failure queue. Its
    // contributions are left out instead, the records named in the log and in
    // an UNWRITTEN entry (store/unwritten-items.ts), and the batch goes on.
    const eventIds = new Map(records.map((record) => [record.dynamodb?.SequenceNumber, record.eventID]));
    const rejected = results.filter((result) => result.rejected !== undefined);
    for (const { item, rejected: refusal } of rejected) {
      const sequenceNumbers = (refusal?.sequences ?? []).map((sequence) => sequence.replace(/^0+(?=\d)/, ''));
      const entry = {
        granularity: item.granularity,
        model: item.model,
        bucket: item.bucket,
        shardId: shardId ?? '',
        sequenceNumbers,
        eventIds: sequenceNumbers.map((sequence) => eventIds.get(sequence) ?? ''),
        error: refusal?.message ?? '',
        at: new Date().toISOString(),
      };
      logger.error('aggregate item refused by DynamoDB; its records are left out of it', { ...entry });
      await recordUnwrittenItem(tableName, entry, retry);
    }
    // Per model: the all-models rollup repeats their sum.
    const appliedHours = results
      .filter((result) => result.item.granularity === 'hour' && result.item.model !== ALL_MODELS)
      .map((result) => ({
        model: result.item.model,
        hourStartMs: bucketKeyStartMs(result.item.bucket),
        delta: result.applied,
      }));
    // Never throws: a metric that cannot be emitted is logged and counted, and the counters stand.
    metrics.emit(batchMetrics(appliedHours, (dependencies.now ?? Date.now)()));
    logger.info('batch aggregated', {
      shardId,
      records: records.length,
      items: results.length,
      writeRequests: results.reduce((sum, result) => sum + result.requests, 0),
      capacityUnits: results.reduce((sum, result) => sum + result.capacityUnits, 0),
      poisonRecords: poison.length,
      unwritableItems: rejected.length,
    });
    return {
      batchItemFailures: poison,
      // A tumbling-window mapping requires a state in the response; we keep none.
      state: {},
    };
  };
}

export const handler = createAggregateHandler({});
