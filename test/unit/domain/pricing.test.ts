/**
 * The model price table: what it accepts, how a model finds its price, and
 * the estimate's exact nanodollars.
 */
import { describe, expect, it } from 'vitest';
import defaultTable from '../../../config/model-prices.json';
import {
  estimateCostNanos,
  MAX_PRICED_MODELS,
  type ModelPrices,
  parsePriceTable,
} from '../../../functions/domain/pricing';

const prices = (input: number, output = 0, cacheRead = 0, cacheWrite = 0) => ({
  input,
  output,
  cacheRead,
  cacheWrite,
});

function table(models: Record<string, unknown>): ModelPrices {
  const result = parsePriceTable({ takenOn: '2026-12-02', source: 'test', models });
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.prices;
}

const tokens = (model: string, input: number, output = 0, cacheRead = 0, cacheWrite = 0) => ({
  model,
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: cacheRead,
  cacheWriteTokens: cacheWrite,
});

describe('the default price table', () => {
  it('is valid, dated and sourced', () => {
    const result = parsePriceTable(defaultTable);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.prices.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(result.prices.source).toMatch(/https:\/\//);
    expect(result.prices.byModel.get('claude-sonnet-4')).toEqual({
      input: 3_000_000_000n,
      output: 15_000_000_000n,
      cacheRead: 300_000_000n,
      cacheWrite: 3_750_000_000n,
    });
  });
});

describe('parsePriceTable', () => {
  const valid = { takenOn: '2026-12-02', source: 'test', models: { m: prices(1) } };
  const tooMany = Object.fromEntries(
    Array.from({ length: MAX_PRICED_MODELS + 1 }, (_, index) => [`m${index}`, prices(1)]),
  );

  it.each([
    ['not an object', 'prices', /expected object|must/],
    ['no takenOn', { ...valid, takenOn: undefined }, /takenOn must be the date/],
    ['a takenOn that is no date', { ...valid, takenOn: '2026-13-45' }, /takenOn must be the date/],
    ['no source', { ...valid, source: '' }, /source must say where/],
    ['an unknown key', { ...valid, currency: 'EUR' }, /currency|unrecognized/i],
    ['models not an object', { ...valid, models: [] }, /models must be an object/],
    ['too many models', { ...valid, models: tooMany }, /at most 30 models, got 31/],
    ['a negative price', { ...valid, models: { m: prices(-1) } }, /models\.m\.input must be US dollars/],
    ['a price per token', { ...valid, models: { m: prices(3000) } }, /models\.m\.input .* to 1000/],
    ['a price as text', { ...valid, models: { m: { ...prices(1), output: '15' } } }, /models\.m\.output/],
    ['a missing price', { ...valid, models: { m: { input: 1, output: 1, cacheRead: 1 } } }, /cacheWrite/],
    ['an extra price', { ...valid, models: { m: { ...prices(1), batch: 1 } } }, /models\.m must be/],
    ['a name with a comma', { ...valid, models: { 'a,b': prices(1) } }, /must not contain a comma/],
    ['a name with a control', { ...valid, models: { 'a\u0007': prices(1) } }, /control/],
    ['an empty name', { ...valid, models: { '': prices(1) } }, /1–100 characters/],
    ['a long name', { ...valid, models: { ['m'.repeat(101)]: prices(1) } }, /1–100 characters/],
    [
      'one name in two Unicode forms',
      { ...valid, models: { 'caf\u00e9': prices(1), 'cafe\u0301': prices(2) } },
      /listed twice/,
    ],
  ])('refuses %s, naming the field', (_case, input, message) => {
    const result = parsePriceTable(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('; ')).toMatch(message);
  });
});

describe('estimateCostNanos', () => {
  const priced = table({
    'claude-sonnet-4': prices(3, 15, 0.3, 3.75),
    'gpt-4o': prices(2.5, 10, 1.25, 2.5),
    tiny: prices(0.0000015),
  });

  it('prices each kind of token at its own price, exactly', () => {
    // 1,234,567 × $3 + 7,654 × $15 + 800,000 × $0.30 + 100 × $3.75, per million tokens.
    expect(estimateCostNanos(priced, tokens('claude-sonnet-4', 1_234_567, 7_654, 800_000, 100))).toBe(
      3_703_701_000n + 114_810_000n + 240_000_000n + 375_000n,
    );
  });

  it('rounds the sum to the nanodollar, half up, once', () => {
    // $0.0000015 per million tokens is 0.0015 nanodollars a token.
    expect(estimateCostNanos(priced, tokens('tiny', 1_000))).toBe(2n); // 1.5
    expect(estimateCostNanos(priced, tokens('tiny', 999))).toBe(1n); // 1.4985
    expect(estimateCostNanos(priced, tokens('tiny', 333))).toBe(0n); // 0.4995
    // Two kinds at 0.3 nanodollars a token: 0.6 rounds to 1, where rounding each would give 0.
    const third = table({ t: prices(0.0003, 0.0003) });
    expect(estimateCostNanos(third, tokens('t', 1, 0))).toBe(0n);
    expect(estimateCostNanos(third, tokens('t', 1, 1))).toBe(1n);
  });

  it('stays exact for the largest token counts', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(estimateCostNanos(priced, tokens('gpt-4o', max, max, max, max))).toBe(
      (BigInt(max) * (2_500_000_000n + 10_000_000_000n + 1_250_000_000n + 2_500_000_000n)) / 1_000_000n,
    );
  });

  it('has no estimate for a model without a price', () => {
    expect(estimateCostNanos(priced, tokens('llama-4', 1_000))).toBeUndefined();
    expect(estimateCostNanos(table({}), tokens('claude-sonnet-4', 1_000))).toBeUndefined();
  });

  it('prices a dated snapshot as its model, and no other name that starts alike', () => {
    const run = tokens('claude-sonnet-4', 1_000_000);
    expect(estimateCostNanos(priced, { ...run, model: 'claude-sonnet-4-20250514' })).toBe(3_000_000_000n);
    expect(estimateCostNanos(priced, { ...run, model: 'gpt-4o-2024-08-06' })).toBe(2_500_000_000n);
    expect(estimateCostNanos(priced, { ...run, model: 'gpt-4o-mini' })).toBeUndefined();
    expect(estimateCostNanos(priced, { ...run, model: 'claude-sonnet-4-5' })).toBeUndefined();
    expect(estimateCostNanos(priced, { ...run, model: 'claude-sonnet-4-2025' })).toBeUndefined();
  });

  it('matches a model name in the NFC form that ingest stores', () => {
    const accented = table({ 'cafe\u0301': prices(1) });
    expect(estimateCostNanos(accented, tokens('caf\u00e9', 1_000_000))).toBe(1_000_000_000n);
  });
});
