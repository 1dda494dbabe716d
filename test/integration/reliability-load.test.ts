/**
 * Fast version of the load suite (issue 8) for `npm test`: a few thousand
 * runs. The full 100 k run is test/reliability/load.test.ts.
 */
import { loadSuite } from '../reliability/suites/load';

loadSuite({ batchedRuns: 4_000, singleRuns: 1_000, drainTimeoutMs: 120_000 });
