/**
 * An in-memory Aggregates table that understands exactly the UpdateItem and
 * PutItem shapes aggregates-store.ts sends, for aws-sdk-client-mock tests:
 * `ADD #a0 :v0, … SET #wm = :max` under `attribute_not_exists(#wm) OR #wm < :min`
 * or `#wm = :observed`, failing like DynamoDB with ALL_OLD on a failed condition.
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
    const watermark = current?.[names['#wm'] ?? '']?.S;
    const condition = input.ConditionExpression ?? '';
    const holds = condition.startsWith('attribute_not_exists')
      ? watermark === undefined || watermark < (values[':min']?.S ?? '')
      : watermark === values[':observed']?.S;
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
    const additions = /ADD (.*?)(?: SET|$)/.exec(input.UpdateExpression ?? '')?.[1] ?? '';
    for (const addition of additions.split(', ').filter(Boolean)) {
      const [name = '', value = ''] = addition.split(' ');
      const attribute = names[name] ?? name;
      const before = BigInt(item[attribute]?.N ?? '0');
      item[attribute] = { N: (before + BigInt(values[value]?.N ?? '0')).toString() };
    }
    item[names['#wm'] ?? ''] = { S: values[':max']?.S ?? '' };
    this.items.set(id, item);
    return { ConsumedCapacity: { CapacityUnits: 1 } };
  }

  /** Number attributes of one item as [name, value] pairs (for decodeAggregate). */
  numbers(pk: string, sk: string): [string, string][] {
    return Object.entries(this.items.get(`${pk}|${sk}`) ?? {}).flatMap(([name, value]): [string, string][] =>
      value.N === undefined ? [] : [[name, value.N]],
    );
  }

  /** Every counter item's number attributes keyed by `pk|sk`, zero values dropped (a stable snapshot to compare). */
  snapshot(): Record<string, Record<string, string>> {
    const result: Record<string, Record<string, string>> = {};
    for (const [id, item] of this.items) {
      const numbers = Object.entries(item).filter(([, value]) => value.N !== undefined && value.N !== '0');
      if (numbers.length > 0)
        result[id] = Object.fromEntries(numbers.map(([name, value]) => [name, value.N ?? '']));
    }
    return result;
  }
}
