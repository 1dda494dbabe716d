/**
 * The routes of API.md, as plain data: the CDK API (lib/), the query router
 * and the local HTTP server all read this list, so the deployed API, the
 * handler and `npm start` answer the same paths.
 */

/** Agents POST runs here (IAM / SigV4 when deployed). */
export const INGEST_PATH = '/api/executions';
/** OTLP/HTTP trace export (the path OpenTelemetry exporters append to their endpoint); served by the ingest function. */
export const TRACES_PATH = '/v1/traces';

/** Open to probes: no sign-in. */
export const HEALTH_PATH = '/api/health';

/** The read routes that need a signed-in user when deployed. */
export const READ_PATHS = [
  '/api/summary',
  '/api/timeseries',
  '/api/models',
  '/api/errors',
  '/api/runs',
  '/api/alarm',
] as const;

export type ReadPath = (typeof READ_PATHS)[number];

/** Every GET route the query handler serves. */
export const QUERY_PATHS: readonly string[] = [HEALTH_PATH, ...READ_PATHS];
