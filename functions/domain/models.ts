import type { SignedKey } from './query-range';
import {
  addSignedTotals,
  costFigures,
  emptyTotals,
  type ReadonlyTotals,
  ratio,
  rowFigures,
  type Totals,
} from './rates';

/** UTC days (`2026-11-01`), both inclusive. */
export interface DaySpan {
  readonly first: string;
  readonly last: string;
}

/** The span covering both; `a` absent, `b` itself. */
export function widenDaySpan(a: DaySpan | undefined, b: DaySpan): DaySpan {
  if (a === undefined) return b;
  // Day keys sort as the days do.
  const [first] = [a.first, b.first].sort();
  const [, last] = [a.last, b.last].sort();
  return { first: first ?? b.first, last: last ?? b.last };
}

/**
 * A model of the registry: the first and last UTC day it had runs on, as far
 * as the registry knows. A bound is absent for a model registered before
 * the registry kept days (its runs may lie anywhere) and, for `first`, when
 * a writer could not tell the model was new; an absent bound never excludes.
 */
export interface RegisteredModel {
  readonly model: string;
  readonly first?: string;
  readonly last?: string;
}

/**
 * The registered models that may have runs between two UTC days (both
 * inclusive): all but those whose known days all lie outside. A superset
 * of the models with runs in the range (a model run on the 1st and the
 * 30th is kept for the 15th), never less.
 */
export function modelsWithRunsBetween(
  registered: readonly RegisteredModel[],
  fromDay: string,
  toDay: string,
): string[] {
  return registered
    .filter(
      ({ first, last }) => (first === undefined || first <= toDay) && (last === undefined || last >= fromDay),
    )
    .map(({ model }) => model);
}

/** Totals of one aggregate item and the model it belongs to. */
export interface ModelTotals extends ReadonlyTotals {
  readonly model: string;
}

/**
 * Sums items per model over one span of a signed plan: each item is added or
 * subtracted as `terms` say (items whose key is not named are ignored).
 * Every name in `models` gets a row, even an empty one.
 */
export function signedTotalsPerModel(
  models: readonly string[],
  items: Iterable<ModelTotals & { readonly bucket: string }>,
  terms: readonly SignedKey[],
): Map<string, Totals> {
  const perModel = new Map(models.map((model) => [model, emptyTotals()]));
  const signs = new Map(terms.map(({ key, sign }) => [key, sign]));
  for (const item of items) {
    const sign = signs.get(item.bucket);
    if (sign === undefined) continue;
    let totals = perModel.get(item.model);
    if (!totals) {
      totals = emptyTotals();
      perModel.set(item.model, totals);
    }
    addSignedTotals(totals, item, sign);
  }
  return perModel;
}

/**
 * The body. Models without a run in the range are left out unless they were
 * asked for by name: the registry's days are a superset (a model run on the
 * 1st and the 30th is read for the 15th), and a row at zero helps nobody.
 */
export function modelsBody(perModel: Map<string, Totals>, requested: readonly string[]) {
  const rows = [...perModel]
    .filter(([model, { counters }]) => counters.executions > 0 || requested.includes(model))
    .map(([model, totals]) => ({
      model,
      ...rowFigures(totals),
      cost: costFigures(totals.counters),
      filesModifiedPerSuccessfulRun: ratio(totals.counters.filesModified, totals.counters.successes),
    }));
  rows.sort((a, b) => b.executions - a.executions || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  return { models: rows };
}
