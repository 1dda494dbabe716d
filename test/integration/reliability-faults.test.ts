/**
 * Fast version of the fault suites (issue 8) for `npm test`: one crash, one
 * database restart, a small correction race. The full run is
 * test/reliability/faults.test.ts.
 */
import { faultSuites } from '../reliability/suites/faults';

faultSuites({
  crashRuns: 400,
  crashes: 1,
  outageRuns: 200,
  correctedIds: 15,
  versionsPerId: 4,
  settleTimeoutMs: 120_000,
});
