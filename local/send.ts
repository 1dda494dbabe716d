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

/** Posts every run in batches and prints one line per batch. Returns true when every batch got a 2xx. */
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
  const parts = batches(runs, options.batchSize ?? MAX_BATCH);
  log(
    `sending ${runs.length} run(s) in ${parts.length} batch(es) to ${url} (${signed ? 'SigV4-signed' : 'unsigned'})`,
  );
  let ok = true;
  for (const [i, part] of parts.entries()) {
    const request = await prepareRequest(url, part, signing);
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
    });
    const text = await response.text();
    ok &&= response.ok;
    log(`batch ${i + 1}/${parts.length} (${part.length} run(s)): ${response.status} ${summarize(text)}`);
  }
  return ok;
}

function summarize(text: string): string {
  try {
    const body = JSON.parse(text) as {
      accepted?: number;
      duplicates?: number;
      rejected?: unknown[];
      message?: string;
    };
    if (typeof body.accepted === 'number') {
      const rejected = body.rejected ?? [];
      return `accepted=${body.accepted} duplicates=${body.duplicates ?? 0} rejected=${rejected.length}${
        rejected.length ? ` ${JSON.stringify(rejected)}` : ''
      }`;
    }
    return text;
  } catch {
    return text.slice(0, 500);
  }
}

const USAGE = `usage: npm run send -- <runs.json> --url <API base URL> [--unsigned] [--region R] [--batch-size N]

  <runs.json>     a JSON array of runs, or {"executions": [...]}
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
