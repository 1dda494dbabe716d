/**
 * GET /api/errors: the top error types with their share, the rest as
 * `other`, and the failure rate of each model. Pure.
 */
import { ratio } from './rates';

export interface ErrorCount {
  readonly model: string;
  readonly errorType: string;
  readonly count: number;
}

export interface ModelOutcomes {
  readonly model: string;
  readonly executions: number;
  readonly failures: number;
}

const byCountThenName = <T extends { count: number; name: string }>(a: T, b: T) =>
  b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * `unlistedFailures` are failed runs whose type the aggregates do not list
 * (each item lists a bounded number of types, see error-counts.ts): they
 * count in `other` and in totalFailures, so that listed + other = failures.
 */
export function errorsBody(
  errorCounts: Iterable<ErrorCount>,
  outcomes: readonly ModelOutcomes[],
  limit: number,
  unlistedFailures = 0,
) {
  const perType = new Map<string, number>();
  for (const { errorType, count } of errorCounts)
    perType.set(errorType, (perType.get(errorType) ?? 0) + count);
  const ranked = [...perType]
    .filter(([, count]) => count > 0)
    .map(([name, count]) => ({ name, count }))
    .sort(byCountThenName);
  // A type can net below zero where a day item minus its edge hours is read
  // and one of them folded the type into `other`: its count is in there.
  let unlisted = unlistedFailures;
  for (const count of perType.values()) if (count < 0) unlisted += count;
  const totalFailures = ranked.reduce((sum, { count }) => sum + count, 0) + unlisted;
  const top = ranked.slice(0, limit);
  const otherCount = ranked.slice(limit).reduce((sum, { count }) => sum + count, 0) + unlisted;
  const byModel = outcomes
    .filter(({ executions, failures }) => executions > 0 || failures > 0)
    .map(({ model, executions, failures }) => ({
      model,
      failures,
      executions,
      failureRate: ratio(failures, executions),
    }))
    .sort((a, b) =>
      byCountThenName({ count: a.failures, name: a.model }, { count: b.failures, name: b.model }),
    );
  return {
    totalFailures,
    errors: top.map(({ name, count }) => ({ errorType: name, count, share: count / totalFailures })),
    other: { count: otherCount },
    byModel,
  };
}
