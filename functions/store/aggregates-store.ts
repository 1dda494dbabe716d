/**
 * Exactly-once writes of pre-aggregated counters.
 *
 * Mechanism: a per-(aggregate item, shard) sequence-number watermark, checked
 * in the condition of the same UpdateItem that ADDs the counters.
 *
 * - Lambda hands a shard's records to one invocation at a time and in order
 *   (ParallelizationFactor 1), and every retry, bisected retry or replay after
 *   a partial failure re-delivers records of that same order.
 * - Each item remembers, per shard, the highest sequence number it has
 *   absorbed (`wm_<shardId>`, zero-padded so it compares as a string).
 * - A write carries the batch's contributions to that item and succeeds only
 *   if the item has seen none of them (`wm < lowest sequence`). It then sets
 *   the watermark to the highest one. Counters and watermark move in one
 *   atomic UpdateItem, so a crash can never leave one without the other.
 * - If the condition fails, ReturnValuesOnConditionCheckFailure hands back the
 *   watermark without an extra read: contributions at or below it were already
 *   applied (a retry, a replay, a lost response) and are dropped; any newer
 *   ones (a replay that reaches past the old batch) are re-summed and written
 *   with `wm = observed` as the condition.
 *
 * Cost: one UpdateItem per touched item per batch, the same as a plain ADD;
 * no marker items, no transactions (which would double the write units). A
 * ClientRequestToken alone would not do: bisected retries form new batches.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type AttributeDeltas, type PendingItem, sequenceRange, sumContributions } from '../domain/deltas';
import { MODELS_PK, watermarkAttribute } from './aggregate-keys';
import { dynamodb } from './clients';
import { type RetryOptions, withRetry } from './retry';

export interface ItemWriteResult {
  /** The deltas actually applied (empty when everything was already applied). */
  readonly applied: AttributeDeltas;
  /** UpdateItem requests sent, including condition failures. */
  readonly requests: number;
  /** Write capacity units DynamoDB reported. */
  readonly capacityUnits: number;
}

function numberValue(amount: number | bigint): AttributeValue {
  return { N: amount.toString() };
}

function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

/**
 * Applies the part of `item`'s contributions that the item has not absorbed
 * yet for `shardId`. Safe to call any number of times with any subset or
 * superset of a shard's records, as long as they are in sequence order.
 */
export async function applyPendingItem(
  tableName: string,
  shardId: string,
  item: PendingItem,
  retry?: RetryOptions,
): Promise<ItemWriteResult> {
  const watermark = watermarkAttribute(shardId);
  let observed: string | undefined; // the item's watermark, once we know it
  let requests = 0;
  let capacityUnits = 0;
  for (;;) {
    const range = sequenceRange(item, observed);
    const deltas = sumContributions(item, observed);
    if (range === null || deltas.size === 0) return { applied: new Map(), requests, capacityUnits };

    const names: Record<string, string> = { '#wm': watermark };
    const values: Record<string, AttributeValue> = { ':max': { S: range.max } };
    const additions: string[] = [];
    let index = 0;
    for (const [attribute, amount] of deltas) {
      names[`#a${index}`] = attribute;
      values[`:v${index}`] = numberValue(amount);
      additions.push(`#a${index} :v${index}`);
      index++;
    }
    let condition: string;
    if (observed === undefined) {
      condition = 'attribute_not_exists(#wm) OR #wm < :min';
      values[':min'] = { S: range.min };
    } else {
      condition = '#wm = :observed';
      values[':observed'] = { S: observed };
    }
    try {
      requests++;
      const output = await withRetry(
        () =>
          dynamodb.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: { pk: { S: item.key.pk }, sk: { S: item.key.sk } },
              UpdateExpression: `ADD ${additions.join(', ')} SET #wm = :max`,
              ConditionExpression: condition,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              ReturnConsumedCapacity: 'TOTAL',
            }),
          ),
        retry,
      );
      capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
      return { applied: deltas, requests, capacityUnits };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = error.Item?.[watermark]?.S;
      if (current === undefined) {
        // The condition can only fail on an item that has a watermark; without
        // the old image (an emulator without ReturnValuesOnConditionCheckFailure)
        // we cannot tell what was applied, so fail the batch and let it retry.
        throw new Error(`condition failed on ${item.key.pk}/${item.key.sk} but no watermark was returned`);
      }
      if (current >= range.max) return { applied: new Map(), requests, capacityUnits };
      observed = current;
    }
  }
}

/** Registers a model name so the query side can list series without a scan. Idempotent. */
export async function registerModel(tableName: string, model: string, retry?: RetryOptions): Promise<void> {
  await withRetry(
    () =>
      dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: MODELS_PK }, sk: { S: model } },
        }),
      ),
    retry,
  );
}
