/**
 * Targets and limits the API applies and the dashboard draws, in a module
 * with no dependencies so the browser bundle can import it: a line on a
 * chart, a calendar's limit and the API's answer can never disagree.
 */
import { alarmRule } from './alarm-rule';

/** Below this success rate on-call is paged (the alarm's threshold). */
export const SUCCESS_RATE_TARGET = alarmRule.threshold;

/**
 * Share of input tokens read from the prompt cache worth aiming for: cache
 * reads cost a fraction of fresh input, and the agent's fixed prompt prefix
 * makes this share reachable.
 */
export const CACHE_HIT_TARGET = 0.4;

/** Days of the range when a request names none, and of the dashboard's first view (the 7d preset). */
export const DEFAULT_RANGE_DAYS = 7;

/** The API rejects longer ranges (from..to, both days included). */
export const MAX_RANGE_DAYS = 400;
