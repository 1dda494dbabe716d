/**
 * Exactly-once writes of pre-aggregated counters, commuting across shards.
 *
 * Mechanism: a per-(aggregate item, shard) sequence-number watermark, checked
 * in the condition of the same UpdateItem that ADDs the counters.
 *
 * Invariant, per item X and shard S: the contributions of S's records that X
 * has absorbed are exactly those with a sequence number ≤ the sequence in X's
 * watermark `w:<S>` (a record's contribution to X is what it adds to X's
 * attributes; records that do not touch X, or whose changes to X cancel out,
 * have none), among the records Lambda can still deliver: once `w:<S>` is
 * past the horizon it may be removed (below), and then none of S's records at
 * or below it can reach the writer again.
 *
 * Why every write keeps it:
 * - Lambda hands a shard's records to one invocation at a time, in order
 *   (ParallelizationFactor 1), and every delivery is a contiguous run of the
 *   shard: a batch, its retry, either half of a bisected batch, a replay from a
 *   reported sequence number (which may reach past the old batch's end), an
 *   operator's replay of a range. So a batch holds every contribution to X
 *   between its first and last record.
 * - A write ADDs the batch's contributions to X's number attributes and sets
 *   `w:<S>` to the highest sequence, on condition that `w:<S>` is still what
 *   this writer last knew it to be (absent, or the exact value it read or
 *   wrote): then X has absorbed none of the contributions above it. Counters
 *   and watermark move in one atomic UpdateItem: a crash, a timeout or a lost
 *   response can never leave one without the other.
 * - Only S's writer sets `w:<S>`, so other shards' writes never fail this
 *   condition while S writes X: concurrent shards' ADDs commute (ADR 0001,
 *   Decision 1b). A failed condition means this shard's state is not what
 *   the writer knew: a replay (retry, bisection, duplicate delivery, our own
 *   retried write whose response was lost), a container that had not written
 *   X yet, a rebuild, or another shard's removal of `w:<S>` (below).
 *   ReturnValuesOnConditionCheckFailure ALL_OLD hands back the watermark
 *   without a read; contributions at or below it are dropped, the rest are
 *   re-summed and written again.
 * - Old watermarks go: `w:<S>` carries the time of the write that set it,
 *   and once that is past the horizon (domain/record-age.ts: the mapping's
 *   maximum record age plus a margin), no record of S at or below it can be
 *   delivered again, so the invariant no longer needs it. Any shard's writer
 *   removes it on its next write to X, having seen it in its previous
 *   write's ALL_NEW image (no read: ReturnValues costs no capacity), and
 *   folds its extents into `rx` in the same UpdateItem. The removal is
 *   conditioned on `w:<S>` and `rx` being the values it saw, so a shard that
 *   wrote again, or a writer that removed or folded first, fails the write;
 *   it is then retried from the returned item, as any failed condition is.
 *   If S writes X again later, it finds no watermark, which is right: its
 *   records from then on are above the removed one. A watermark without a
 *   time (from before they carried one) is never removed: its age is unknown.
 * - The condition is equality, not "below the batch's first sequence",
 *   because `w:<S>` also carries the shortest and longest duration S added
 *   (no update expression takes a min or a max): the writer sets them to its
 *   known value widened by the batch, which is right only if the known value
 *   is current. A container that does not know it yet pays one failed write.
 * - Contributions that cancel out across records (+1 then −1) still move the
 *   watermark. Skipping it would break the invariant: a later replay
 *   starting between the two records would apply the −1 alone.
 *
 * Error types are the one figure that cannot simply be ADDed: an item lists
 * at most MAX_ERROR_TYPES_PER_ITEM of them (`e:<type>`), the rest go to
 * `eo`. A type is listed when it first comes while there is room, and stays
 * listed. Listing ADDs its id to the set `et`, on condition that the set
 * leaves room: an id already in the set changes nothing, so a type that
 * another shard listed first is counted under its name and once in `et`,
 * and the condition fails only at the cap. A type the writer believes
 * listed is conditioned on `attribute_exists(e:<type>)`, one it sends to
 * `eo` on `attribute_not_exists`: these fail only when a belief is stale
 * (the cap filled meanwhile, a rebuild relisted), and the failure's ALL_OLD
 * corrects it. Every failed run is counted once, in its type or in `eo`, so
 * listed + `eo` = failures whatever the order of writes.
 *
 * Every write also SETs a new random change token `v`, which no stream
 * write is conditioned on: the rebuild (aggregates-rebuild.ts) uses it to
 * see an item stay quiet, the reader to reuse a decoded item.
 *
 * Poison records contribute what can be read of them (see aggregate.ts) and
 * are reported; the handler still writes everything else in the batch, so a
 * retry from the poison record is a no-op for the rest and the batch that
 * finally goes to the on-failure destination holds nothing uncounted.
 *
 * What it does not cover: a batch that exhausts its retries because DynamoDB
 * kept failing is discarded by Lambda while items written after it carry
 * higher watermarks, so replaying it from the queue adds only to items that
 * were not touched since. So transient errors are retried with backoff until
 * shortly before the invocation's own deadline (see aggregate.ts): a DynamoDB
 * outage must outlast every Lambda retry of the batch, minutes rather than
 * seconds, before anything is discarded.
 *
 * Cost: one UpdateItem per touched item per batch (more only when the
 * item's share passes DynamoDB's expression limits), whatever the number of
 * shards, plus ~140 bytes on the item per shard that wrote it within the
 * horizon (13 h; older ones are removed); a replayed item, and the
 * first write to an existing item after a container starts, cost a failed
 * conditional write (charged like a write). The alternatives: a marker item
 * per record in the same TransactWriteItems doubles the write units (and
 * caps a batch at 100 items); a ClientRequestToken alone fails under bisect,
 * since bisected retries form different batches.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BoundedMap } from '../domain/bounded-map';
import {
  addDelta,
  emptyDelta,
  type ItemDelta,
  type PendingItem,
  sequencesAfter,
  sumContributions,
} from '../domain/deltas';
import { MAX_ERROR_TYPES_PER_ITEM } from '../domain/error-counts';
import type { DaySpan } from '../domain/models';
import { isPastHorizon } from '../domain/record-age';
import {
  type AggregateKey,
  additionsOf,
  aggregateKeyOf,
  errorAttribute,
  errorTypeOf,
  extentsOf,
  isWatermarkAttribute,
  keyId,
  LISTED_ERRORS_ATTRIBUTE,
  listedErrorId,
  MODEL_FIRST_DAY_ATTRIBUTE,
  MODEL_LAST_DAY_ATTRIBUTE,
  MODELS_PK,
  OTHER_ERRORS_ATTRIBUTE,
  packExtents,
  parseExtents,
  parseWatermark,
  REBUILT_EXTENTS_ATTRIBUTE,
  VERSION_ATTRIBUTE,
  watermarkAttribute,
  watermarkValue,
  widenExtents,
} from './aggregate-keys';
import { dynamodb } from './clients';
import { type RetryOptions, withRetry } from './retry';

/**
 * Longer than the default: giving up fails the batch, and a batch that fails
 * all its Lambda retries is discarded (see "What it does not cover"). The
 * handler adds a deadline and lifts the attempts when it knows its time left.
 */
export const AGGREGATE_WRITE_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 };

/** UpdateItems in flight at once per batch; corrections can touch hundreds of days. */
const WRITE_CONCURRENCY = 16;

export interface ItemWriteResult {
  readonly item: PendingItem;
  /** What was actually applied (counts nothing when everything was already applied). */
  readonly applied: ItemDelta;
  /** UpdateItem requests sent, condition failures included. */
  readonly requests: number;
  /** Write capacity units DynamoDB reported (condition failures are charged too). */
  readonly capacityUnits: number;
  /**
   * Set when DynamoDB refused a write as invalid (a ValidationException:
   * the item would pass 400 KB, an attribute is malformed): its message and
   * the (padded) sequences of the contributions left out. Nothing of them
   * was applied (`applied` holds the parts of a split written before); the
   * same write would fail again, so the caller must not retry it (see
   * aggregate.ts).
   */
  readonly rejected?: { readonly message: string; readonly sequences: readonly string[] };
}

/** Another shard's watermark as this writer last saw it on the item. */
interface SeenWatermark {
  /** Its attribute name, `w:<shard>`. */
  readonly name: string;
  /** Its value as read: the condition of its removal. */
  readonly value: string;
  readonly writtenAt: number;
}

/**
 * What a shard's writer knows of a stored item: its own watermark, the
 * listed error types, and what it needs to remove other shards' old
 * watermarks on its next write.
 */
interface ItemState {
  /** This shard's `w:<shard>` value on the item; absent when the item has none. */
  readonly watermark?: string;
  /** The error types the item lists (`e:<type>`). */
  readonly listed: ReadonlySet<string>;
  /** The size of the item's `et`. */
  readonly listedCount: number;
  /**
   * Other shards' watermarks that carry a time, oldest first, at most
   * MAX_PRUNED_PER_WRITE: the only ones the next write may remove, so the
   * memory per item stays small however many shards wrote it.
   */
  readonly others: readonly SeenWatermark[];
  /** The item's `rx` as read; absent when it has none. */
  readonly foldedExtents?: string;
}

/**
 * Watermarks one write removes at most: each adds a REMOVE and a condition
 * to the update expression (limited to 4 KB); the rest go on later writes.
 */
const MAX_PRUNED_PER_WRITE = 16;

/**
 * Every shard that writes an item sees another shard's watermark pass the
 * horizon at the same moment; if they all removed it on their next write,
 * all but the first would fail its condition. Each (writer, watermark) pair
 * waits a spread of up to ten minutes past the horizon instead, so that one
 * of them removes it and the others see it gone in their next write's
 * ALL_NEW. Waiting longer is always safe.
 */
const PRUNE_SPREAD_SECONDS = 600;

function pruneDelaySeconds(watermark: string, other: string): number {
  return (
    createHash('sha256').update(`${watermark}\u0000${other}`).digest().readUInt32BE(0) % PRUNE_SPREAD_SECONDS
  );
}

/**
 * The state each item was left in by this container's last write to it for
 * a shard (the write's ALL_NEW image), so that the next batch's write needs
 * no read and no failed condition. A stale entry only costs one failed
 * condition, which hands back the current item. Bounded, least recently used
 * first out: an entry is a watermark, a few error types and at most
 * MAX_PRUNED_PER_WRITE other watermarks (~2 KB), and a batch touches two
 * items per model (its hour and day).
 */
export class KnownItemStates extends BoundedMap<string, ItemState> {
  constructor(capacity = 2_000) {
    super(capacity);
  }
}

const containerStates = new KnownItemStates();

/** A random change token (see the module comment). */
const newVersion = () => randomBytes(9).toString('base64url');

/** DynamoDB's answer to a request it will never accept as sent: retrying cannot help. */
function isValidationError(error: unknown): boolean {
  return (error as Error)?.name === 'ValidationException';
}

function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

function stateOf(item: Record<string, AttributeValue>, watermark: string): ItemState {
  const listed = new Set<string>();
  const others: SeenWatermark[] = [];
  for (const [name, value] of Object.entries(item)) {
    const errorType = errorTypeOf(name);
    if (errorType !== undefined) listed.add(errorType);
    else if (isWatermarkAttribute(name) && name !== watermark && value.S !== undefined) {
      const { writtenAt } = parseWatermark(value.S);
      if (writtenAt !== undefined) others.push({ name, value: value.S, writtenAt });
    }
  }
  others.sort((a, b) => a.writtenAt - b.writtenAt);
  const folded = item[REBUILT_EXTENTS_ATTRIBUTE]?.S;
  return {
    ...(item[watermark]?.S === undefined ? {} : { watermark: item[watermark]?.S }),
    listed,
    listedCount: item[LISTED_ERRORS_ATTRIBUTE]?.SS?.length ?? 0,
    others: others.slice(0, MAX_PRUNED_PER_WRITE),
    ...(folded === undefined ? {} : { foldedExtents: folded }),
  };
}

/** Short placeholders: an expression string is limited to 4 KB. */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private readonly byName = new Map<string, string>();
  private next = 0;

  name(attribute: string): string {
    let placeholder = this.byName.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#${(this.next++).toString(36)}`;
      this.byName.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  value(value: AttributeValue): string {
    const placeholder = `:${(this.next++).toString(36)}`;
    this.values[placeholder] = value;
    return placeholder;
  }
}

/**
 * DynamoDB refuses an expression longer than 4 KB or with more than 300
 * operators or functions ("Expression parameters",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html);
 * DynamoDB Local enforces both too. A batch's contributions to one item can
 * pass either (every error type past the item's cap adds a condition), so the
 * writer splits them over several writes that each fit (applyPendingItem).
 */
const MAX_EXPRESSION_BYTES = 4 * 1024;
const MAX_EXPRESSION_OPERATORS = 300;

/**
 * Comparators, AND / OR / NOT / BETWEEN / IN and function calls: what
 * DynamoDB counts. SET's `=` is counted too, though DynamoDB Local does not
 * count update actions: a count too high only splits sooner.
 */
const OPERATOR = /<>|<=|>=|=|<|>|\b(?:AND|OR|NOT|BETWEEN|IN)\b|\b[a-z_]+\(/g;

function withinExpressionLimits(command: UpdateItemCommand): boolean {
  return [command.input.UpdateExpression ?? '', command.input.ConditionExpression ?? ''].every(
    (expression) =>
      Buffer.byteLength(expression) <= MAX_EXPRESSION_BYTES &&
      (expression.match(OPERATOR)?.length ?? 0) <= MAX_EXPRESSION_OPERATORS,
  );
}

/**
 * The most of `sequences` (the item's contributions not yet absorbed, in
 * order) that one write can carry: all of them, or else the longest prefix
 * whose command `commandThrough` builds within DynamoDB's expression limits
 * (at least one: a single record's share always fits, with room to spare).
 */
function writablePrefix(
  sequences: readonly string[],
  commandThrough: (through: string) => UpdateItemCommand,
): { through: string; command: UpdateItemCommand } {
  const at = (count: number) => sequences[count - 1] as string;
  const whole = commandThrough(at(sequences.length));
  if (withinExpressionLimits(whole)) return { through: at(sequences.length), command: whole };
  let best = { through: at(1), command: commandThrough(at(1)) };
  let low = 2;
  let high = sequences.length - 1;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const command = commandThrough(at(middle));
    if (withinExpressionLimits(command)) {
      best = { through: at(middle), command };
      low = middle + 1;
    } else high = middle - 1;
  }
  return best;
}

/** `#a = :b`, or `attribute_not_exists(#a)` when the value known is none. */
function stillAsKnown(expression: Expression, attribute: string, known: string | undefined): string {
  return known === undefined
    ? `attribute_not_exists(${expression.name(attribute)})`
    : `${expression.name(attribute)} = ${expression.value({ S: known })}`;
}

/**
 * The removal of the other shards' watermarks that `known` saw and that are
 * past the horizon at `nowSeconds` (domain/record-age.ts: no record at or
 * below them can be delivered again), their extents folded into `rx`. Each
 * removal is conditioned on the watermark still being the value read (its
 * shard may have written again, which makes it young), and the fold on `rx`
 * still being the value read: two writers that fold at once would otherwise
 * each SET `rx` from the same old value and one fold would be lost. When a
 * condition fails, the write fails whole and is retried from the returned
 * item, which shows what the other writer did.
 */
function pruningOf(
  expression: Expression,
  watermark: string,
  known: ItemState | undefined,
  nowSeconds: number,
): { sets: string[]; removes: string[]; conditions: string[] } {
  // `others` never holds this shard's own watermark (stateOf leaves it out).
  const pruned = (known?.others ?? []).filter((other) =>
    isPastHorizon(other.writtenAt + pruneDelaySeconds(watermark, other.name), nowSeconds),
  );
  if (known === undefined || pruned.length === 0) return { sets: [], removes: [], conditions: [] };
  let folded = parseExtents(known.foldedExtents);
  for (const other of pruned) folded = widenExtents(folded, parseWatermark(other.value).extents);
  const packed = packExtents(folded);
  return {
    sets:
      packed === ''
        ? []
        : [`${expression.name(REBUILT_EXTENTS_ATTRIBUTE)} = ${expression.value({ S: packed })}`],
    removes: pruned.map((other) => expression.name(other.name)),
    conditions: [
      ...pruned.map((other) => stillAsKnown(expression, other.name, other.value)),
      stillAsKnown(expression, REBUILT_EXTENTS_ATTRIBUTE, known.foldedExtents),
    ],
  };
}

/**
 * The write of `delta` (the contributions above `known`'s watermark, up to
 * and including `through`), conditioned on `known` being this shard's current state of
 * the item (see the module comment), removing the watermarks `known` shows
 * past the horizon at `nowSeconds`.
 */
function updateOf(
  tableName: string,
  key: AggregateKey,
  watermark: string,
  delta: ItemDelta,
  through: string,
  known: ItemState | undefined,
  nowSeconds: number,
): UpdateItemCommand {
  const expression = new Expression();
  const shardMark = parseWatermark(known?.watermark);
  const mark = watermarkValue(through, nowSeconds, widenExtents(shardMark.extents, extentsOf(delta)));
  const pruning = pruningOf(expression, watermark, known, nowSeconds);
  const sets = [
    `${expression.name(watermark)} = ${expression.value({ S: mark })}`,
    `${expression.name(VERSION_ATTRIBUTE)} = ${expression.value({ S: newVersion() })}`,
    ...pruning.sets,
  ];
  const additions = additionsOf(delta);
  const conditions = [stillAsKnown(expression, watermark, known?.watermark), ...pruning.conditions];
  const listed = known?.listed ?? new Set<string>();
  const listedCount = known?.listedCount ?? 0;
  const newIds = new Set<string>();
  let other = 0n;
  for (const [errorType, count] of delta.errors) {
    if (count === 0) continue;
    const name = expression.name(errorAttribute(errorType));
    if (listed.has(errorType)) {
      additions.set(errorAttribute(errorType), BigInt(count));
      conditions.push(`attribute_exists(${name})`);
    } else if (count > 0 && listedCount + newIds.size < MAX_ERROR_TYPES_PER_ITEM) {
      // Listed whether or not another shard listed it first: its id joins
      // the set once either way, and its runs belong under its name.
      newIds.add(listedErrorId(errorType));
      additions.set(errorAttribute(errorType), BigInt(count));
    } else {
      conditions.push(`attribute_not_exists(${name})`);
      other += BigInt(count);
    }
  }
  if (other !== 0n) additions.set(OTHER_ERRORS_ATTRIBUTE, other);
  const adds = [...additions].map(
    ([name, amount]) => `${expression.name(name)} ${expression.value({ N: amount.toString() })}`,
  );
  if (newIds.size > 0) {
    const listedName = expression.name(LISTED_ERRORS_ATTRIBUTE);
    adds.push(`${listedName} ${expression.value({ SS: [...newIds] })}`);
    const room = expression.value({ N: String(MAX_ERROR_TYPES_PER_ITEM - newIds.size) });
    conditions.push(`(attribute_not_exists(${listedName}) OR size(${listedName}) <= ${room})`);
  }
  return new UpdateItemCommand({
    TableName: tableName,
    Key: { pk: { S: key.pk }, sk: { S: key.sk } },
    UpdateExpression: [
      `SET ${sets.join(', ')}`,
      ...(pruning.removes.length > 0 ? [`REMOVE ${pruning.removes.join(', ')}`] : []),
      ...(adds.length > 0 ? [`ADD ${adds.join(', ')}`] : []),
    ].join(' '),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: expression.names,
    ExpressionAttributeValues: expression.values,
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ReturnConsumedCapacity: 'TOTAL',
  });
}

/** How a writer retries, what it remembers of items, and its clock; each has a default for the deployed function. */
export interface WriteOptions {
  /** Backoff of a throttled or failed write. @default AGGREGATE_WRITE_RETRY */
  readonly retry?: RetryOptions;
  /** What this shard's writer knows of the items it wrote. @default this container's */
  readonly states?: KnownItemStates;
  /** Epoch ms that watermarks are stamped with and aged by. @default Date.now */
  readonly now?: () => number;
}

/**
 * Applies the part of `item`'s contributions that the item has not absorbed
 * yet for `shardId`. Safe to call any number of times with any contiguous run
 * of the shard's records.
 *
 * Usually one write; when the contributions would pass DynamoDB's expression
 * limits in one, they go in several, each a prefix of what is left and each
 * moving the watermark to its last record, exactly as if the batch had been
 * delivered in smaller batches: a crash between two leaves the item with the
 * first part absorbed and a watermark that says so.
 */
export async function applyPendingItem(
  tableName: string,
  shardId: string,
  item: PendingItem,
  { retry = AGGREGATE_WRITE_RETRY, states = containerStates, now = Date.now }: WriteOptions = {},
): Promise<ItemWriteResult> {
  const watermark = watermarkAttribute(shardId);
  const key = aggregateKeyOf(item);
  const stateId = `${tableName}\u0000${shardId}\u0000${keyId(key)}`;
  // What we believe of the item: our last write to it, or what a failed condition returned.
  let known = states.get(stateId);
  // Whether `known` came from the item itself (a failed condition), not from memory.
  let seenOnItem = false;
  // Whether a write of this call succeeded: then `known` is the item as that write left it.
  let wrote = false;
  const applied = emptyDelta();
  let requests = 0;
  let capacityUnits = 0;
  for (;;) {
    const absorbed = parseWatermark(known?.watermark).sequence;
    const sequences = sequencesAfter(item, absorbed);
    if (sequences.length === 0) {
      if (wrote || seenOnItem || known === undefined) return { item, applied, requests, capacityUnits };
      // Memory alone never skips records: if the item was deleted and is
      // being rebuilt from a replay, it has not absorbed them. Ask the item.
      known = undefined;
      states.delete(stateId);
      continue;
    }
    const nowSeconds = Math.floor(now() / 1000);
    const write = writablePrefix(sequences, (through) =>
      updateOf(
        tableName,
        key,
        watermark,
        sumContributions(item, absorbed, through),
        through,
        known,
        nowSeconds,
      ),
    );
    try {
      requests++;
      const output = await withRetry((abortSignal) => dynamodb.send(write.command, { abortSignal }), retry);
      capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
      addDelta(applied, sumContributions(item, absorbed, write.through));
      wrote = true;
      if (!output.Attributes) {
        states.delete(stateId);
        return { item, applied, requests, capacityUnits };
      }
      known = stateOf(output.Attributes, watermark);
      states.set(stateId, known);
    } catch (error) {
      if (!isConditionFailure(error)) {
        states.delete(stateId);
        if (isValidationError(error))
          return {
            item,
            applied,
            requests,
            capacityUnits,
            rejected: { message: (error as Error).message, sequences },
          };
        throw error;
      }
      // A failed condition is charged like a write; its capacity is not reported.
      if (error.Item === undefined) {
        // Only a belief that the item exists (a remembered watermark or
        // listed type) can fail on a missing item (it was deleted since):
        // start over as for a new item. Without one, every condition holds
        // on a missing item; if it fails anyway, we cannot tell what was
        // applied: fail the batch.
        if (known === undefined)
          throw new Error(`condition failed on ${key.pk}/${key.sk} but no item was returned`);
        known = undefined;
        seenOnItem = false;
        states.delete(stateId);
        continue;
      }
      known = stateOf(error.Item, watermark);
      seenOnItem = true;
      states.set(stateId, known);
    }
  }
}

/**
 * Applies every pending item of a batch, a bounded number at a time. After a
 * failure no new write starts, and the error is thrown once the writes in
 * flight have settled, so a retry never races this invocation's leftovers.
 */
export async function applyPendingItems(
  tableName: string,
  shardId: string,
  items: readonly PendingItem[],
  options: WriteOptions = {},
): Promise<ItemWriteResult[]> {
  const results: ItemWriteResult[] = [];
  const failures: unknown[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length && failures.length === 0) {
      const item = items[next++] as PendingItem;
      try {
        results.push(await applyPendingItem(tableName, shardId, item, options));
      } catch (error) {
        failures.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}

/**
 * Registers a model with UTC days it has runs on, so that the query side
 * lists series without a scan and skips a model whose runs all lie outside
 * a range. `first` is only ever lowered and `last` only raised: each is a
 * conditional UpdateItem that fails, and is ignored, when the registry holds
 * a wider day already, so writers of several shards commute. An item
 * registered before the registry kept days has no `first` and is not given
 * one: its earlier runs would be hidden. Idempotent.
 */
export async function registerModel(
  tableName: string,
  model: string,
  days: Partial<DaySpan>,
  retry: RetryOptions = AGGREGATE_WRITE_RETRY,
  client: DynamoDBClient = dynamodb,
): Promise<void> {
  const key = { pk: { S: MODELS_PK }, sk: { S: model } };
  const widen = (name: string, day: string, condition: string) =>
    withRetry(async (abortSignal) => {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET #day = :day',
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#day': name },
            ExpressionAttributeValues: { ':day': { S: day } },
          }),
          { abortSignal },
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }, retry);
  // First the first day: for a new model it creates the item, with a first day.
  if (days.first !== undefined)
    await widen(MODEL_FIRST_DAY_ATTRIBUTE, days.first, 'attribute_not_exists(pk) OR #day > :day');
  if (days.last !== undefined)
    await widen(MODEL_LAST_DAY_ATTRIBUTE, days.last, 'attribute_not_exists(#day) OR #day < :day');
}
