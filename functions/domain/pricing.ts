/**
 * The model price table and the cost it estimates for a run that reports
 * none. Pure: the table comes from config/model-prices.json or, deployed,
 * from CDK context `modelPrices` (see functions/config.ts, lib/config.ts).
 *
 * The estimate is made once, at ingest, and stored on the run (see
 * docs/ARCHITECTURE.md, "Estimated costs"): a later price change then
 * estimates new runs only, and never rewrites what was already counted.
 */
import { z } from 'zod';
import { labelProblem } from './execution';
import { divideRoundingHalfUp, usdToNanos } from './money';

/** A table holds at most this many models: deployed, it travels in a Lambda environment variable (4 KB for all of them). */
export const MAX_PRICED_MODELS = 30;
/** Dearer than any model sold: a price above it is a unit mistake (per token, per thousand). */
const MAX_USD_PER_MILLION_TOKENS = 1_000;
const MODEL_MAX_CHARS = 100;
const SOURCE_MAX_CHARS = 500;

const TOKEN_KINDS = ['input', 'output', 'cacheRead', 'cacheWrite'] as const;
type TokenKind = (typeof TOKEN_KINDS)[number];

const price = (model: string, kind: TokenKind) => {
  const message = `models.${model}.${kind} must be US dollars per million tokens from 0 to ${MAX_USD_PER_MILLION_TOKENS}`;
  return z.number({ error: message }).min(0, { error: message }).max(MAX_USD_PER_MILLION_TOKENS, {
    error: message,
  });
};

const modelPriceSchema = (model: string) =>
  z.strictObject(
    Object.fromEntries(TOKEN_KINDS.map((kind) => [kind, price(model, kind)])) as Record<
      TokenKind,
      ReturnType<typeof price>
    >,
    {
      error: `models.${model} must be {"input","output","cacheRead","cacheWrite"} in USD per million tokens`,
    },
  );

/** What the table file (or the `modelPrices` context) holds. */
const priceTableSchema = z.strictObject({
  /** The day the prices were read from their source, YYYY-MM-DD. */
  takenOn: z.iso.date({ error: 'takenOn must be the date the prices were taken, YYYY-MM-DD' }),
  /** Where they were read: a person checking them needs to know. */
  source: z
    .string({ error: `source must say where the prices come from (1–${SOURCE_MAX_CHARS} characters)` })
    .min(1, { error: `source must say where the prices come from (1–${SOURCE_MAX_CHARS} characters)` })
    .max(SOURCE_MAX_CHARS, { error: `source must be at most ${SOURCE_MAX_CHARS} characters` }),
  models: z.record(z.string(), z.unknown(), { error: 'models must be an object of model name → prices' }),
});

/** Prices of one model in nanodollars per million tokens: exact integers. */
type NanoPrices = Readonly<Record<TokenKind, bigint>>;

/** A validated table, ready to price runs. */
export interface ModelPrices {
  readonly takenOn: string;
  readonly source: string;
  /** Model name (NFC, as ingest stores it) → prices. */
  readonly byModel: ReadonlyMap<string, NanoPrices>;
}

export type PriceTableResult = { ok: true; prices: ModelPrices } | { ok: false; problems: string[] };

/** Checks a price table (parsed JSON); every problem names its field. Never throws. */
export function parsePriceTable(input: unknown): PriceTableResult {
  const table = priceTableSchema.safeParse(input);
  if (!table.success)
    return {
      ok: false,
      problems: table.error.issues.map((issue) => {
        const path = issue.path.join('.');
        return issue.message.startsWith(path) || path === '' ? issue.message : `${path}: ${issue.message}`;
      }),
    };
  const entries = Object.entries(table.data.models);
  if (entries.length > MAX_PRICED_MODELS)
    return {
      ok: false,
      problems: [`models must list at most ${MAX_PRICED_MODELS} models, got ${entries.length}`],
    };
  const problems: string[] = [];
  const byModel = new Map<string, NanoPrices>();
  for (const [name, prices] of entries) {
    const model = name.normalize('NFC');
    const nameProblem =
      model.length === 0 || [...model].length > MODEL_MAX_CHARS
        ? `models: a model name must be 1–${MODEL_MAX_CHARS} characters`
        : labelProblem(`models: model name ${JSON.stringify(model.slice(0, 40))}`, model, true);
    if (nameProblem) {
      problems.push(nameProblem);
      continue;
    }
    if (byModel.has(model)) {
      problems.push(`models.${model} is listed twice (once in another Unicode form)`);
      continue;
    }
    const parsed = modelPriceSchema(model).safeParse(prices);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => issue.message));
      continue;
    }
    byModel.set(model, {
      input: usdToNanos(parsed.data.input),
      output: usdToNanos(parsed.data.output),
      cacheRead: usdToNanos(parsed.data.cacheRead),
      cacheWrite: usdToNanos(parsed.data.cacheWrite),
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, prices: { takenOn: table.data.takenOn, source: table.data.source, byModel } };
}

/** The zod form of parsePriceTable, for configuration schemas (functions/config.ts, lib/config.ts). */
export const modelPricesSchema = z.unknown().transform((input, context): ModelPrices => {
  const result = parsePriceTable(input);
  if (result.ok) return result.prices;
  for (const problem of result.problems) context.addIssue({ code: 'custom', message: problem });
  return z.NEVER;
});

/**
 * A dated snapshot of a model (`claude-sonnet-4-20250514`,
 * `gpt-4o-2024-08-06`) costs what the model does: the suffix names a
 * release, not another model. No other prefix counts: `gpt-4o` is not the
 * price of `gpt-4o-mini`.
 */
const DATED_SNAPSHOT = /^(.+)-(?:\d{8}|\d{4}-\d{2}-\d{2})$/;

/** The prices of a model: its exact name, else the model it is a dated snapshot of. */
function pricesOf(table: ModelPrices, model: string): NanoPrices | undefined {
  const exact = table.byModel.get(model);
  if (exact) return exact;
  const snapshot = DATED_SNAPSHOT.exec(model);
  return snapshot ? table.byModel.get(snapshot[1] as string) : undefined;
}

const TOKENS_PER_MILLION = 1_000_000n;

/** The token counts a run is priced by. */
export interface PricedTokens {
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheWriteTokens: number;
}

/**
 * The estimated cost of a run in nanodollars, or undefined when its model
 * has no price. Tokens × nanodollars per million are summed exactly and
 * divided once, rounded half up, so the estimate is within half a
 * nanodollar of the exact product.
 */
export function estimateCostNanos(table: ModelPrices, run: PricedTokens): bigint | undefined {
  const prices = pricesOf(table, run.model);
  if (!prices) return undefined;
  const scaled =
    BigInt(run.inputTokens) * prices.input +
    BigInt(run.outputTokens) * prices.output +
    BigInt(run.cacheReadTokens) * prices.cacheRead +
    BigInt(run.cacheWriteTokens) * prices.cacheWrite;
  return divideRoundingHalfUp(scaled, TOKENS_PER_MILLION);
}
