/**
 * The paging rule, shared by the CDK alarm (lib/) and GET /api/alarm, so that
 * what the dashboard says and what pages on-call can never disagree.
 */
export const alarmRule = {
  /** Page when the success rate is below this fraction. */
  threshold: 0.85,
  /** Trailing window the rate is computed over. */
  windowMinutes: 60,
  /**
   * Below this many runs in the window the rate is noise (2 failures out of 3
   * is not an outage): the state is INSUFFICIENT_DATA and nobody is paged.
   */
  minExecutions: 10,
} as const;

/** CloudWatch namespace and metric names the aggregate function publishes. */
export const metricNames = {
  namespace: 'FixerAgent',
  executions: 'Executions',
  failures: 'Failures',
  costUsd: 'CostUsd',
  modelDimension: 'Model',
} as const;

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** Evaluates the rule on the counts of the trailing window. */
export function evaluateAlarm(
  executions: number,
  successes: number,
): {
  state: AlarmState;
  successRate: number | null;
} {
  const successRate = executions === 0 ? null : successes / executions;
  if (executions < alarmRule.minExecutions || successRate === null)
    return { state: 'INSUFFICIENT_DATA', successRate };
  return { state: successRate < alarmRule.threshold ? 'ALARM' : 'OK', successRate };
}
