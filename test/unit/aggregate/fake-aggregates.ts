/**
 * An in-memory Aggregates table that understands exactly the UpdateItem and
 * PutItem shapes aggregates-store.ts sends, for aws-sdk-client-mock tests:
 * `SET #wm = :max, #v = :next[, #c = :c][, #hs = :hs][, #hf = :hf]` under
 * one of its two conditions, failing like DynamoDB with ALL_OLD on a
 * failed condition.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type PutItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';

export type FakeItem = Record<string, AttributeValue>;

export class FakeAggregatesTable {
  readonly items = new Map<string, FakeItem>();
  updates = 0;

  put(input: PutItemCommandInput): object {
    const item = input.Item ?? {};
    this.items.set(`${item.pk?.S}|${item.sk?.S}`, structuredClone(item));
    return {};
  }

  update(input: UpdateItemCommandInput): object {
    this.updates++;
    const id = `${input.Key?.pk?.S}|${input.Key?.sk?.S}`;
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const current = this.items.get(id);
    const version = current?.[names['#v'] ?? '']?.S;
    const condition = input.ConditionExpression ?? '';
    const conditions: Record<string, () => boolean> = {
      '#v = :version': () => current !== undefined && version === values[':version']?.S,
      'attribute_not_exists(#v)': () => version === undefined,
    };
    const check = conditions[condition];
    if (!check) throw new Error(`fake table: unexpected condition ${condition}`);
    const holds = check();
    if (!holds) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: current ? structuredClone(current) : undefined,
      });
    }
    const item: FakeItem = current ?? {
      pk: { S: input.Key?.pk?.S ?? '' },
      sk: { S: input.Key?.sk?.S ?? '' },
    };
    const update = input.UpdateExpression ?? '';
    if (!update.startsWith('SET ')) throw new Error(`fake table: unexpected update ${update}`);
    const sets = /^SET (.*)$/.exec(input.UpdateExpression ?? '')?.[1] ?? '';
    for (const assignment of sets.split(', ').filter(Boolean)) {
      const [name = '', value = ''] = assignment.split(' = ');
      item[names[name] ?? name] = structuredClone(values[value] ?? { NULL: true });
    }
    this.items.set(id, item);
    return { ConsumedCapacity: { CapacityUnits: 1 } };
  }

  /** One item (empty when absent), for decodeAggregateItem. */
  item(pk: string, sk: string): FakeItem {
    return this.items.get(`${pk}|${sk}`) ?? {};
  }

  /**
   * Every counter item's number attributes and packed histograms keyed by
   * `pk|sk`, zero values dropped (a stable snapshot to compare; the version
   * and the watermarks depend on how many writes it took, not on the counts).
   */
  snapshot(): Record<string, Record<string, string>> {
    const result: Record<string, Record<string, string>> = {};
    for (const [id, item] of this.items) {
      const numbers = Object.entries(item)
        .map(([name, value]): [string, string | undefined] => [
          name,
          value.N ?? (name.startsWith('h') ? value.S : undefined),
        ])
        .filter(([, value]) => value !== undefined && value !== '0' && value !== '');
      if (numbers.length > 0)
        result[id] = Object.fromEntries(numbers.map(([name, value]) => [name, value ?? '']));
    }
    return result;
  }
}
