/**
 * The Executions stream → counter aggregates, exactly once.
 * See functions/store/aggregates-store.ts for the exactly-once mechanism.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import {
  CloudWatchClient,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { loadAggregateConfig } from './config';
import { batchMetrics } from './domain/batch-metrics';
import { type AttributeDeltas, BatchAccumulator, type RunChange } from './domain/deltas';
import { paddedSequence } from './store/aggregate-keys';
import { applyPendingItem, registerModel } from './store/aggregates-store';
import { type RunImage, runImageSchema } from './store/run-item';

const logger = new Logger({ serviceName: 'fixer-metrics-aggregate' });

/** The stream event; `shardId` is present because the mapping uses a tumbling window (see lib/). */
export type AggregateEvent = DynamoDBStreamEvent & { shardId?: string };
export type AggregateResponse = DynamoDBBatchResponse & { state?: Record<string, unknown> };

export interface AggregateDependencies {
  /** Sends one PutMetricData call; failures are logged, never fatal. */
  readonly publishMetrics: (input: PutMetricDataCommandInput) => Promise<void>;
  readonly aggregatesTableName?: string;
  readonly metricsNamespace?: string;
}

/** Thrown for a stream record that is not a run image: a poison record. */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

const isTtlDeletion = (record: DynamoDBRecord) =>
  record.userIdentity?.type === 'Service' && record.userIdentity?.principalId === 'dynamodb.amazonaws.com';

function parseImage(image: Record<string, unknown> | undefined, which: string): RunImage | undefined {
  if (!image) return undefined;
  let plain: Record<string, unknown>;
  try {
    plain = unmarshall(image as Record<string, AttributeValue>);
  } catch (error) {
    throw new PoisonRecordError(`${which} image cannot be read: ${(error as Error).message}`);
  }
  const parsed = runImageSchema.safeParse(plain);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(item)').join(', ');
    throw new PoisonRecordError(`${which} image is not a run (bad or missing: ${fields})`);
  }
  return parsed.data;
}

/** Reads a stream record into a change, or throws PoisonRecordError. */
export function parseStreamRecord(record: DynamoDBRecord): RunChange {
  const kind = record.eventName;
  if (kind !== 'INSERT' && kind !== 'MODIFY' && kind !== 'REMOVE') {
    throw new PoisonRecordError(`unknown eventName ${String(kind)}`);
  }
  const oldRun = parseImage(record.dynamodb?.OldImage, 'old');
  const newRun = parseImage(record.dynamodb?.NewImage, 'new');
  if (kind !== 'REMOVE' && !newRun) throw new PoisonRecordError(`${kind} without a new image`);
  return { kind, oldRun, newRun, expiredByTtl: isTtlDeletion(record) };
}

export function createAggregateHandler(dependencies: AggregateDependencies) {
  const config =
    dependencies.aggregatesTableName !== undefined
      ? {
          AGGREGATES_TABLE_NAME: dependencies.aggregatesTableName,
          METRICS_NAMESPACE: dependencies.metricsNamespace ?? 'FixerAgent',
        }
      : loadAggregateConfig();
  const knownModels = new Set<string>();

  return async function aggregate(event: AggregateEvent): Promise<AggregateResponse> {
    const records = event.Records ?? [];
    const shardId = event.shardId ?? 'unknown-shard';
    if (event.shardId === undefined && records.length > 0) {
      logger.warn('stream event has no shardId; is the tumbling window configured? exactly-once needs it');
    }
    const accumulator = new BatchAccumulator();
    let failedSequence: string | undefined;
    for (const record of records) {
      const sequence = record.dynamodb?.SequenceNumber;
      try {
        if (!sequence || !/^\d{1,40}$/.test(sequence))
          throw new PoisonRecordError('record without a sequence number');
        accumulator.add(paddedSequence(sequence), parseStreamRecord(record));
      } catch (error) {
        if (!(error instanceof PoisonRecordError)) throw error;
        // Stop here: records before it are applied now, this one and the rest
        // come back from its sequence number, as a partial-batch failure does.
        logger.error('poison record', {
          sequenceNumber: sequence,
          eventID: record.eventID,
          reason: error.message,
        });
        failedSequence = sequence ?? record.eventID ?? 'unknown';
        break;
      }
    }

    const pending = accumulator.pendingItems();
    const results = await Promise.all(
      pending.map((item) => applyPendingItem(config.AGGREGATES_TABLE_NAME, shardId, item)),
    );
    const newModels = accumulator.models().filter((model) => !knownModels.has(model));
    await Promise.all(newModels.map((model) => registerModel(config.AGGREGATES_TABLE_NAME, model)));
    for (const model of newModels) knownModels.add(model);

    const appliedHourCounters = pending.flatMap(
      (item, index): { model: string; deltas: AttributeDeltas }[] =>
        item.kind === 'counter' && item.granularity === 'hour'
          ? [{ model: item.model, deltas: results[index]?.applied ?? new Map() }]
          : [],
    );
    const metricData = batchMetrics(appliedHourCounters, config.METRICS_NAMESPACE, new Date());
    if (metricData) {
      try {
        await dependencies.publishMetrics(metricData);
      } catch (error) {
        logger.warn('PutMetricData failed; counters are unaffected', { error: (error as Error).message });
      }
    }
    logger.info('batch aggregated', {
      shardId,
      records: records.length,
      items: pending.length,
      writeRequests: results.reduce((sum, result) => sum + result.requests, 0),
      capacityUnits: results.reduce((sum, result) => sum + result.capacityUnits, 0),
      poison: failedSequence !== undefined,
    });
    return {
      batchItemFailures: failedSequence === undefined ? [] : [{ itemIdentifier: failedSequence }],
      // A tumbling-window mapping requires a state in the response; we keep none.
      state: {},
    };
  };
}

const cloudwatch = new CloudWatchClient({});

export const handler = createAggregateHandler({
  publishMetrics: async (input) => {
    await cloudwatch.send(new PutMetricDataCommand(input));
  },
});
