/**
 * Fast version of the hostile-input suite (issue 8) for `npm test`. The full
 * 10 k-request run is test/reliability/hostile.test.ts.
 */
import { hostileSuite } from '../reliability/suites/hostile';

hostileSuite({ requests: 1_600, seed: Number(process.env.HOSTILE_SEED ?? 20261124) });
