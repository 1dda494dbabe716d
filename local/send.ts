/**
 * `npm run send -- <runs.json> --url <base>`: posts runs to POST /api/executions
 * in batches of at most 100, the way an agent would.
 *
 * Against a deployed stack the route requires IAM, so each request is signed
 * with SigV4 (the SDK's @smithy/signature-v4, credentials from the default
 * provider chain: env, profile, SSO, instance role...). Use the API's own URL
 * (stack output ApiUrl), not the CloudFront one: CloudFront replaces the Host
 * header, which is part of the signature. Against the local runtime
 * (localhost) requests go unsigned.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** The most items POST /api/executions accepts in one request (API.md). */
export const MAX_BATCH = 100;

export interface SendOptions {
  /** Base URL of the API (https://abc.execute-api.eu-west-1.amazonaws.com) or the full ingest URL. */
  readonly url: string;
  /** Skip SigV4 even for a remote URL. */
  readonly unsigned?: boolean;
  /** Signing region; by default read from an execute-api host name, else AWS_REGION. */
  readonly region?: string;
  /** Items per request, 1–100. */
  readonly batchSize?: number;
}

/** A request ready for fetch. */
export interface PreparedRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The runs of a file: an array, or `{"executions": [...]}`, or a single run object. */
export function runsOf(json: unknown): unknown[] {
  if (Array.isArray(json)) return json;
  if (json && typeof json === 'object' && Array.isArray((json as { executions?: unknown }).executions)) {
    return (json as { executions: unknown[] }).executions;
  }
  if (json && typeof json === 'object') return [json];
  throw new Error('the file must hold a JSON array of runs, {"executions": [...]}, or one run object');
}

/** Splits `items` into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size = MAX_BATCH): T[][] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH)
    throw new Error(`batch size must be 1–${MAX_BATCH}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The ingest endpoint for a base URL (a URL already ending in /api/executions is kept). */
export function ingestUrl(base: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith('/api/executions')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/executions`;
  }
  return url;
}

/** True for the local runtime, which has no IAM to sign for. */
export function isLocal(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]', '::1'].includes(url.hostname);
}

/** The region in an execute-api host name (`<id>.execute-api.<region>.amazonaws.com`). */
export function regionOf(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
}

/**
 * Builds one POST /api/executions request, SigV4-signed for `execute-api`
 * unless `credentials` is undefined.
 */
export async function prepareRequest(
  url: URL,
  runs: readonly unknown[],
  signing?: { credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider; region: string },
): Promise<PreparedRequest> {
  const body = JSON.stringify({ executions: runs });
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (!signing) return { url: url.toString(), method: 'POST', headers, body };

  const signer = new SignatureV4({
    service: 'execute-api',
    region: signing.region,
    credentials: signing.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...headers, host: url.host },
    body,
  });
  // fetch sets Host itself (from the same URL) and refuses to be given one.
  const { host: _host, ...sendable } = signed.headers;
  return { url: url.toString(), method: 'POST', headers: sendable, body };
}

/** A run the API refused, as POST /api/executions reports it (docs/API.md). */
interface RejectedRun {
  readonly index: number;
  readonly executionId: string | null;
  readonly errors: readonly { readonly path: string; readonly message: string }[];
}

interface IngestAnswer {
  readonly accepted?: number;
  readonly duplicates?: number;
  readonly rejected?: readonly RejectedRun[];
  readonly error?: string;
  readonly message?: string;
}

/**
 * Posts every run in batches, prints one line per batch and one per rejected
 * run (its position in the file, executionId and reasons). Returns true only
 * when every run was stored or already stored: a 207, a 4xx, a 5xx or a
 * batch that never got an answer makes it false, so a script can rely on the
 * exit code.
 */
export async function send(
  runs: readonly unknown[],
  options: SendOptions,
  log = console.log,
): Promise<boolean> {
  const url = ingestUrl(options.url);
  const signed = !options.unsigned && !isLocal(url);
  let signing: { credentials: AwsCredentialIdentityProvider; region: string } | undefined;
  if (signed) {
    const region =
      options.region ?? regionOf(url) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('cannot tell the signing region from the URL: pass --region');
    signing = { credentials: defaultProvider(), region };
  }
  const size = options.batchSize ?? MAX_BATCH;
  const parts = batches(runs, size);
  log(
    `sending ${runs.length} run(s) in ${parts.length} batch(es) to ${url} (${signed ? 'SigV4-signed' : 'unsigned'})`,
  );
  let rejectedRuns = 0;
  let failedBatches = 0;
  for (const [i, part] of parts.entries()) {
    const prefix = `batch ${i + 1}/${parts.length} (${part.length} run(s))`;
    let status: number;
    let text: string;
    try {
      const request = await prepareRequest(url, part, signing);
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      failedBatches++;
      log(`${prefix}: failed, no answer: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const answer = parseAnswer(text);
    const rejected = answer?.rejected ?? [];
    log(`${prefix}: ${status} ${summarize(answer, text)}`);
    for (const run of rejected) log(`  ${describeRejected(run, i * size)}`);
    rejectedRuns += rejected.length;
    // A 4xx/5xx without a rejected list (413, 503, ...) stored nothing of the batch.
    if (status !== 202 && rejected.length === 0) failedBatches++;
  }
  const ok = rejectedRuns === 0 && failedBatches === 0;
  if (!ok) log(`not all runs were stored: ${rejectedRuns} rejected, ${failedBatches} batch(es) failed`);
  return ok;
}

function parseAnswer(text: string): IngestAnswer | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return body !== null && typeof body === 'object' ? (body as IngestAnswer) : undefined;
  } catch {
    return undefined;
  }
}

function summarize(answer: IngestAnswer | undefined, text: string): string {
  if (typeof answer?.accepted === 'number')
    return `accepted=${answer.accepted} duplicates=${answer.duplicates ?? 0} rejected=${answer.rejected?.length ?? 0}`;
  if (answer?.error !== undefined) return `${answer.error}: ${answer.message ?? ''}`;
  return text.slice(0, 500);
}

/** `rejected run 3 (id "r3"): endTime: endTime … is before startTime …; costUSD: unknown field …` */
function describeRejected(run: RejectedRun, offset: number): string {
  const id = run.executionId === null ? 'no executionId' : `id ${JSON.stringify(run.executionId)}`;
  const reasons = run.errors.map((error) => (error.path ? `${error.path}: ${error.message}` : error.message));
  return `rejected run ${offset + run.index} (${id}): ${reasons.join('; ')}`;
}

const USAGE = `usage: npm run send -- <runs.json> --url <API base URL> [--unsigned] [--region R] [--batch-size N]

  <runs.json>     a JSON array of runs, {"executions": [...]}, or one run

Exits 1 when any run was rejected or a batch failed (each rejected run is
printed with its position in the file, executionId and reasons).
  --url           stack output ApiUrl (signed with your AWS credentials),
                  or http://127.0.0.1:3000 for npm start (unsigned)
  --unsigned      never sign
  --region        signing region (default: from the URL, else AWS_REGION)
  --batch-size    runs per request, 1-100 (default 100)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      file: { type: 'string' },
      unsigned: { type: 'boolean', default: false },
      region: { type: 'string' },
      'batch-size': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const file = values.file ?? positionals[0];
  if (values.help || !file || !values.url) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const runs = runsOf(JSON.parse(await readFile(file, 'utf8')));
  const ok = await send(runs, {
    url: values.url,
    unsigned: values.unsigned,
    region: values.region,
    batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
  });
  return ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`send failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
