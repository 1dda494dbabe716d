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
 * asked for by name: the registry remembers every model ever seen, and a
 * table of last year's models at zero helps nobody.
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
