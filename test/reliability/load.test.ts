/**
 * Load (issue 8): 100 k runs through the local runtime; the figures go to
 * bench/results/reliability-load.json.
 */
import { fileURLToPath } from 'node:url';
import { loadSuite } from './suites/load';

loadSuite({
  batchedRuns: 90_000,
  singleRuns: 10_000,
  drainTimeoutMs: 600_000,
  resultsFile: fileURLToPath(new URL('../../bench/results/reliability-load.json', import.meta.url)),
});
