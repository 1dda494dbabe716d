/** The chart table, Efficiency part (see overview.ts). */
import { CACHE_HIT_TARGET } from '../../../functions/domain/targets';
import { hints } from '../literacy';
import { rateChart } from './overview';

export const cacheHitRateChart = rateChart({
  title: 'Cache hit rate',
  measure: 'Cache reads over all prompt tokens',
  hint: hints.cache,
  pick: (b) => b.cacheHitRate,
  target: CACHE_HIT_TARGET,
  targetLabel: 'target',
  color: 'primary',
  csvName: 'cache_hit_rate',
  anomaly: false,
});
