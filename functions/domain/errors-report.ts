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

export function errorsBody(
  errorCounts: Iterable<ErrorCount>,
  outcomes: readonly ModelOutcomes[],
  limit: number,
) {
  const perType = new Map<string, number>();
  for (const { errorType, count } of errorCounts)
    perType.set(errorType, (perType.get(errorType) ?? 0) + count);
  const ranked = [...perType]
    .filter(([, count]) => count > 0)
    .map(([name, count]) => ({ name, count }))
    .sort(byCountThenName);
  const totalFailures = ranked.reduce((sum, { count }) => sum + count, 0);
  const top = ranked.slice(0, limit);
  const otherCount = ranked.slice(limit).reduce((sum, { count }) => sum + count, 0);
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
