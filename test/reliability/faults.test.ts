/**
 * Faults (issue 8): repeated SIGKILLs of the runtime mid-batch, a DynamoDB
 * Local restart under load, and a larger correction race.
 */
import { faultSuites } from './suites/faults';

faultSuites({
  crashRuns: 2_000,
  crashes: 3,
  outageRuns: 1_200,
  correctedIds: 100,
  versionsPerId: 8,
  settleTimeoutMs: 300_000,
});
