/**
 * Poison records (issue 8): the stream flows past malformed items, which land
 * in the dead-letter list that /api/health reports.
 */
import { poisonSuite } from './suites/poison';

poisonSuite({ runsAround: 1_000, timeoutMs: 120_000 });
