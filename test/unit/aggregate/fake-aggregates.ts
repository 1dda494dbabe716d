/**
 * An in-memory Aggregates table that understands exactly the UpdateItem and
 * PutItem shapes the stream writer (aggregates-store.ts) sends, for
 * aws-sdk-client-mock tests: `SET #a = :b, … [REMOVE #e, …] [ADD #c :d, …]`
 * (numbers and string sets) under a
 * conjunction of `attribute_exists(#a)`, `attribute_not_exists(#a)`,
 * `#a = :b`, `(attribute_not_exists(#a) OR size(#a) <= :b)` and (the
 * registry's days) `attribute_not_exists(#a) OR #b < :c` or `> :c`, failing like
 * DynamoDB with ALL_OLD on a failed condition and answering ALL_NEW, and
 * refusing, as DynamoDB and DynamoDB Local do, an expression over 4 KB or a
 * condition with more than 300 operators and functions.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type PutItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';

export type FakeItem = Record<string, AttributeValue>;

/** DynamoDB's refusal of an expression past its limits (as DynamoDB Local words it). */
function refuseBeyondLimits(input: UpdateItemCommandInput): void {
  const refuse = (message: string) => {
    const error = new Error(message);
    error.name = 'ValidationException';
    throw error;
  };
  for (const [label, expression] of [
    ['UpdateExpression', input.UpdateExpression ?? ''],
    ['ConditionExpression', input.ConditionExpression ?? ''],
  ]) {
    if (new TextEncoder().encode(expression).length > 4096)
      refuse(`Invalid ${label}: Expression size has exceeded the maximum allowed size`);
  }
  const condition = input.ConditionExpression ?? '';
  const operators =
    (condition.match(/ (?:AND|OR) /g)?.length ?? 0) +
    (condition.match(/ (?:=|<=) /g)?.length ?? 0) +
    (condition.match(/\w+\(/g)?.length ?? 0);
  if (operators > 300)
    refuse(
      `Invalid ConditionExpression: The expression contains too many operators; operator count: ${operators}`,
    );
}

function holds(
  clause: string,
  item: FakeItem | undefined,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
): boolean {
  const attribute = (placeholder: string) => item?.[names[placeholder] ?? placeholder];
  let match = /^attribute_not_exists\((#\w+)\)$/.exec(clause);
  if (match) return attribute(match[1] ?? '') === undefined;
  match = /^attribute_exists\((#\w+)\)$/.exec(clause);
  if (match) return attribute(match[1] ?? '') !== undefined;
  match = /^(#\w+) = (:\w+)$/.exec(clause);
  if (match) {
    const stored = attribute(match[1] ?? '');
    return stored !== undefined && JSON.stringify(stored) === JSON.stringify(values[match[2] ?? '']);
  }
  match = /^\(attribute_not_exists\((#\w+)\) OR size\((#\w+)\) <= (:\w+)\)$/.exec(clause);
  if (match) {
    const stored = attribute(match[1] ?? '');
    return stored === undefined || (stored.SS?.length ?? 0) <= Number(values[match[3] ?? '']?.N);
  }
  // The registry's days (registerModel): a missing attribute compares as false, as in DynamoDB.
  match = /^attribute_not_exists\((#?\w+)\) OR (#\w+) ([<>]) (:\w+)$/.exec(clause);
  if (match) {
    if (attribute(match[1] ?? '') === undefined) return true;
    const stored = attribute(match[2] ?? '')?.S;
    const given = values[match[4] ?? '']?.S ?? '';
    return stored !== undefined && (match[3] === '<' ? stored < given : stored > given);
  }
  throw new Error(`fake table: unexpected condition ${clause}`);
}

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
    refuseBeyondLimits(input);
    const id = `${input.Key?.pk?.S}|${input.Key?.sk?.S}`;
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const current = this.items.get(id);
    const clauses = (input.ConditionExpression ?? '').split(' AND ').filter(Boolean);
    if (!clauses.every((clause) => holds(clause, current, names, values))) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: current ? structuredClone(current) : undefined,
      });
    }
    const item: FakeItem = structuredClone(current) ?? {
      pk: { S: input.Key?.pk?.S ?? '' },
      sk: { S: input.Key?.sk?.S ?? '' },
    };
    const match = /^SET (.*?)(?: REMOVE (.*?))?(?: ADD (.*))?$/.exec(input.UpdateExpression ?? '');
    if (!match) throw new Error(`fake table: unexpected update ${input.UpdateExpression}`);
    for (const assignment of (match[1] ?? '').split(', ').filter(Boolean)) {
      const [name = '', value = ''] = assignment.split(' = ');
      item[names[name] ?? name] = structuredClone(values[value] ?? { NULL: true });
    }
    for (const removal of (match[2] ?? '').split(', ').filter(Boolean))
      delete item[names[removal] ?? removal];
    for (const addition of (match[3] ?? '').split(', ').filter(Boolean)) {
      const [name = '', value = ''] = addition.split(' ');
      const attribute = names[name] ?? name;
      const added = values[value];
      if (added?.SS !== undefined) {
        item[attribute] = { SS: [...new Set([...(item[attribute]?.SS ?? []), ...added.SS])] };
        continue;
      }
      const before = BigInt(item[attribute]?.N ?? '0');
      item[attribute] = { N: (before + BigInt(added?.N ?? '0')).toString() };
    }
    this.items.set(id, item);
    return { ConsumedCapacity: { CapacityUnits: 1 }, Attributes: structuredClone(item) };
  }

  /** One item (empty when absent), for decodeAggregateItem. */
  item(pk: string, sk: string): FakeItem {
    return this.items.get(`${pk}|${sk}`) ?? {};
  }

  /**
   * Every counter item's number attributes keyed by `pk|sk`, zero values
   * dropped (a stable snapshot to compare; the change token and the
   * watermarks depend on how many writes it took, not on the counts).
   */
  snapshot(): Record<string, Record<string, string>> {
    const result: Record<string, Record<string, string>> = {};
    for (const [id, item] of this.items) {
      const numbers = Object.entries(item)
        .map(([name, value]): [string, string | undefined] => [name, value.N])
        .filter(([, value]) => value !== undefined && value !== '0');
      if (numbers.length > 0)
        result[id] = Object.fromEntries(numbers.map(([name, value]) => [name, value ?? '']));
    }
    return result;
  }
}
