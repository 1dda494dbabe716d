/**
 * Poison records (issue 8), for `npm test`; test/reliability/poison.test.ts
 * runs the same suite under `npm run test:reliability`.
 */
import { poisonSuite } from '../reliability/suites/poison';

poisonSuite({ runsAround: 60, timeoutMs: 60_000 });
