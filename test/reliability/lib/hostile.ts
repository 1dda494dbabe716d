/**
 * fast-check generators of hostile HTTP requests: every one of them is invalid
 * under the HTTP API contract (API.md), so every answer must be a
 * 4xx JSON error with a message, and none may change a stored run or an
 * aggregate. A generator that could produce a valid request would make
 * "aggregates unchanged" meaningless, so each one breaks at least one rule
 * the contract states outright (never one it leaves open, such as integers
 * above 2^53 or a byte-order mark in front of valid JSON).
 */
import fc from 'fast-check';
import type { HttpAnswer, HttpRequest } from './http';
import { makeRun, makeRuns, RUN_WINDOW } from './runs';

export interface HostileRequest {
  /** Which rule the request breaks, for failure messages and the tally. */
  readonly kind: string;
  readonly request: HttpRequest;
  /** The status the contract names for this case, when it names exactly one. */
  readonly expectedStatus?: number;
  /** The `error` code the contract names for this case, when it names exactly one. */
  readonly expectedError?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' } as const;
const post = (body: string | Buffer, headers: Record<string, string> = JSON_HEADERS): HttpRequest => ({
  method: 'POST',
  path: '/api/executions',
  headers,
  body,
});

/** A valid record to break; never sent as is. */
const validRun = fc.integer({ min: 0, max: 1_000_000 }).map((index) => makeRun('hostile', index));

const REQUIRED = [
  'executionId',
  'startTime',
  'endTime',
  'status',
  'model',
  'inputTokens',
  'outputTokens',
] as const;
const STRING_FIELDS = [
  'executionId',
  'startTime',
  'endTime',
  'status',
  'model',
  'errorType',
  'errorMessage',
] as const;
const COUNT_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'llmCalls',
  'toolCalls',
  'filesModified',
] as const;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
/** Strings full of what breaks naive code: lone surrogates, NUL, RTL marks, emoji, combining marks. */
const nastyString = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    loneSurrogate,
    fc.constantFrom(
      '\u0000',
      '\u202e',
      '\ufeff',
      '\ufffd',
      '\u{1f4a9}',
      'e\u0301',
      '\u2028',
      '\\',
      '"',
      '%00',
    ),
  ),
  maxLength: 40,
});

/** A JSON value of any type but `type`. */
function notOfType(type: 'string' | 'number'): fc.Arbitrary<unknown> {
  const values: fc.Arbitrary<unknown>[] = [
    fc.boolean(),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  ];
  if (type === 'string') values.push(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
  else values.push(fc.constantFrom('1', '0', '', '1e3', 'NaN'), nastyString);
  return fc.oneof(...values);
}

/** Values the contract rules out for `field` while having the right JSON type. */
const outOfRange: Record<string, fc.Arbitrary<unknown>> = {
  executionId: fc.oneof(
    fc.constant(''),
    fc.string({ minLength: 129, maxLength: 300, unit: fc.constantFrom('a', 'Z', '9', '-') }),
    fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(' ', '/', '#', '?', '%', '\u00e9', '\u0000', '\ud800'),
      )
      .map(([text, bad]) => `${text}${bad}x`),
    nastyString.filter((text) => !/^[A-Za-z0-9._:-]{1,128}$/.test(text)),
  ),
  startTime: fc.constantFrom(
    '2026-13-01T00:00:00Z',
    '2026-10-32T00:00:00Z',
    '2026-10-01T25:00:00Z',
    '2026-10-01T10:00:00',
    '2026-10-01',
    '10/01/2026 10:00',
    'yesterday',
    '',
    '2026-10-01T10:00:00+25:00',
    '\ud8002026-10-01T10:00:00Z',
  ),
  endTime: fc.constantFrom('2026-02-30T00:00:00Z', '2026-10-01T10:00:00', 'now', '', '2026-10-01T10:00:00ZZ'),
  status: fc
    .oneof(fc.constantFrom('', 'ok', 'failed', 'succeeded', 'pending', 'success ', ' failure'), nastyString)
    .filter((text) => text !== 'success' && text !== 'failure'),
  model: fc.oneof(fc.constant(''), fc.string({ minLength: 101, maxLength: 400 })),
  // An empty errorType is allowed (it counts as Unknown); only a long one is out of range.
  errorType: fc.string({ minLength: 101, maxLength: 400 }),
  costUsd: fc.oneof(
    fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }),
    fc.constant(-1e-9),
  ),
  ...Object.fromEntries(
    COUNT_FIELDS.map((field) => [
      field,
      fc.oneof(
        fc.integer({ min: -1_000_000_000, max: -1 }),
        fc.integer({ min: 0, max: 1_000_000 }).map((n) => n + 0.5),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.constant(-1),
      ),
    ]),
  ),
};

/** Keys that must never reach an object's prototype, and typos the contract calls out. */
const pollutingKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'costUSD',
    'durationMs',
  ),
  fc.constantFrom('__defineGetter__', '__lookupSetter__', 'isPrototypeOf', 'executionID', 'Status', ''),
  nastyString.filter((key) => key.length > 0),
);

/** Puts `"key": value` first in a JSON object text, so that `__proto__` stays an own key. */
function withLeadingKey(objectJson: string, key: string, value: unknown): string {
  return `{${JSON.stringify(key)}:${JSON.stringify(value ?? null)},${objectJson.slice(1)}`;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A record that breaks one rule: wrong type, out of range, missing, clock skew or unknown key. */
const invalidRecordText: fc.Arbitrary<{ kind: string; text: string }> = fc.oneof(
  fc.tuple(validRun, fc.constantFrom(...STRING_FIELDS, ...COUNT_FIELDS, 'costUsd')).chain(([run, field]) =>
    notOfType(STRING_FIELDS.includes(field as never) ? 'string' : 'number')
      .filter((value) => !(field === 'costUsd' && value === null))
      .map((value) => ({ kind: `wrong type: ${field}`, text: JSON.stringify({ ...run, [field]: value }) })),
  ),
  fc.tuple(validRun, fc.constantFrom(...Object.keys(outOfRange))).chain(([run, field]) =>
    (outOfRange[field] as fc.Arbitrary<unknown>).map((value) => ({
      kind: `out of range: ${field}`,
      text: JSON.stringify({ ...run, [field]: value }),
    })),
  ),
  fc.tuple(validRun, fc.constantFrom(...REQUIRED)).map(([run, field]) => {
    const { [field]: _dropped, ...rest } = run;
    return { kind: `missing: ${field}`, text: JSON.stringify(rest) };
  }),
  fc.tuple(validRun, fc.integer({ min: 1, max: 10_000_000 })).map(([run, skewMs]) => {
    const end = new Date(Date.parse(String(run.startTime)) - skewMs).toISOString();
    return { kind: 'clock skew', text: JSON.stringify({ ...run, endTime: end }) };
  }),
  fc.tuple(validRun, pollutingKey, fc.jsonValue({ maxDepth: 2 })).map(([run, key, value]) => ({
    kind: `unknown key: ${key.slice(0, 20)}`,
    text: withLeadingKey(
      JSON.stringify(run),
      key,
      key === '__proto__' ? { status: 'success', polluted: true } : value,
    ),
  })),
  fc.tuple(validRun, fc.jsonValue({ maxDepth: 2 })).map(([run, value]) => ({
    kind: 'prototype payload in field',
    text: withLeadingKey(JSON.stringify({ ...run, model: 'm'.repeat(101) }), 'constructor', {
      prototype: value,
    }),
  })),
);

/** POST bodies that are not JSON at all. */
const brokenJson: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    fc.tuple(validRun, fc.nat()).map(([run, cut]) => {
      const text = JSON.stringify(run);
      return text.slice(0, 1 + (cut % (text.length - 1)));
    }),
    fc
      .tuple(
        validRun,
        fc.nat(),
        fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', "'", 'NaN', '//', '\u0000'),
      )
      .map(([run, at, junk]) => {
        const text = JSON.stringify(run);
        const position = at % text.length;
        return `${text.slice(0, position)}${junk}${text.slice(position)}`;
      }),
    fc.constantFrom(
      '',
      ' ',
      '{',
      '{"executionId": }',
      "{'executionId': 'a'}",
      '{"a":1,}',
      '[1,2,]',
      'NaN',
      'undefined',
      '{"inputTokens": 0x10}',
      '{"inputTokens": 01}',
      '{"costUsd": Infinity}',
      '/* comment */ {}',
      'null null',
    ),
    nastyString,
  )
  // A parser may skip a leading byte-order mark (RFC 8259), so one alone does not make JSON broken.
  .filter((text) => !parses(text.replace(/^\ufeff/, '')))
  .map((text) => ({
    kind: 'broken JSON',
    request: post(text),
    expectedStatus: 400,
    expectedError: 'invalid_json',
  }));

/**
 * Bytes that are not UTF-8 inside a record that is otherwise valid: the
 * answer must be invalid_json, and nothing may be stored (a decoder that
 * repaired the bytes to U+FFFD would accept the run with 202).
 */
const notUtf8: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    validRun,
    fc.oneof(
      fc.constant(Uint8Array.from([0xc3, 0x28])),
      // Continuation bytes only (0x80–0xBF): after the ASCII quote no run of
      // them is UTF-8, while any byte ≥ 0x80 could form a valid character
      // (C3 98 is Ø) and make the run a valid one.
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => bytes.map((b) => 0x80 | (b & 0x3f))),
    ),
  )
  .map(([run, bytes]) => {
    const text = JSON.stringify({ ...run, model: 'MARK' });
    const [before = '', after = ''] = text.split('MARK');
    return {
      kind: 'invalid UTF-8',
      request: post(Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)])),
      expectedStatus: 400,
      expectedError: 'invalid_json',
    };
  });

/** Deep arrays or objects: as the body, as a field, as the batch. */
const deepNesting: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.integer({ min: 100, max: 100_000 }),
    fc.constantFrom('array', 'object'),
    fc.constantFrom('body', 'field', 'batch'),
  )
  .map(([depth, shape, where]) => {
    const open = shape === 'array' ? '[' : '{"a":';
    const close = shape === 'array' ? ']' : '}';
    const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
    const body =
      where === 'body'
        ? nested
        : where === 'field'
          ? `{"executionId":"deep","startTime":"2026-10-01T00:00:00Z","endTime":"2026-10-01T00:01:00Z","status":"success","model":${nested},"inputTokens":1,"outputTokens":1}`
          : `{"executions":[${nested}]}`;
    return { kind: `deep ${shape} (${where})`, request: post(body) };
  });

/** Long strings where they are not allowed, and bodies over the 1 MiB limit. */
const hugeStrings: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc
    .tuple(
      validRun,
      fc.constantFrom('executionId', 'model', 'errorType', 'status'),
      fc.integer({ min: 1_000, max: 200_000 }),
    )
    .map(([run, field, length]) => ({
      kind: `huge ${field}`,
      request: post(JSON.stringify({ ...run, [field]: 'x'.repeat(length) })),
      expectedStatus: 400,
    })),
  fc.tuple(validRun, fc.integer({ min: 1024 * 1024 + 1, max: 1_300_000 })).map(([run, length]) => ({
    // A valid record but for its size: the limit, not validation, must stop it.
    kind: 'body over 1 MiB',
    request: post(JSON.stringify({ ...run, errorMessage: 'y'.repeat(length) })),
    expectedStatus: 413,
    expectedError: 'payload_too_large',
  })),
  fc.integer({ min: 1_000, max: 20_000 }).map((keys) => ({
    kind: 'many unknown keys',
    request: post(`{${Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(',')}}`),
    expectedStatus: 400,
  })),
);

/** Batches the contract rules out. Every item is invalid too, so nothing could be stored by mistake. */
const badBatches: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc.constant({ kind: 'empty batch', request: post('{"executions":[]}'), expectedStatus: 400 }),
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((value) => !Array.isArray(value))
    .map((value) => ({
      kind: 'executions not an array',
      request: post(JSON.stringify({ executions: value })),
      expectedStatus: 400,
    })),
  fc.array(invalidRecordText, { minLength: 1, maxLength: 10 }).map((items) => ({
    kind: 'batch of invalid items',
    request: post(`{"executions":[${items.map((item) => item.text).join(',')}]}`),
    expectedStatus: 400,
    expectedError: 'validation_failed',
  })),
  fc
    .tuple(fc.integer({ min: 101, max: 300 }), fc.integer({ min: 0, max: 1_000_000 }))
    .map(([count, first]) => ({
      kind: 'batch over 100 items',
      request: post(
        JSON.stringify({
          executions: Array.from({ length: count }, (_, i) => makeRun('hostile-batch', first + i)),
        }),
      ),
      expectedStatus: 400,
      expectedError: 'batch_too_large',
    })),
  fc
    .jsonValue({ maxDepth: 1 })
    .filter((value) => value === null || typeof value !== 'object' || Array.isArray(value))
    .map((value) => ({
      kind: 'body not an object',
      request: post(JSON.stringify(value)),
      expectedStatus: 400,
    })),
);

/** A valid record with a media type other than JSON: the type must be checked before the body. */
const wrongContentType: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    validRun,
    fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonx',
      'json',
      '',
      '\u00e9/json',
      'application/json-patch',
    ),
  )
  .map(([run, type]) => ({
    kind: `content-type ${type || '(none)'}`,
    request: post(JSON.stringify(run), type === '' ? {} : { 'content-type': type }),
    expectedStatus: 415,
    expectedError: 'unsupported_media_type',
  }));

const READ_PATHS = ['/api/summary', '/api/timeseries', '/api/models', '/api/errors', '/api/runs'] as const;

/** Wrong methods, with a valid record as the body so that a mistaken write would show. */
const wrongMethods: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc.tuple(validRun, fc.constantFrom('PUT', 'PATCH', 'DELETE', 'GET')).map(([run, method]) => ({
    kind: `${method} /api/executions`,
    request: { method, path: '/api/executions', headers: JSON_HEADERS, body: JSON.stringify(run) },
  })),
  fc
    .tuple(fc.constantFrom(...READ_PATHS, '/api/health'), fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'))
    .map(([path, method]) => ({
      kind: `${method} ${path}`,
      request: { method, path, headers: JSON_HEADERS, body: '{}' },
    })),
);

const knownApiSegments = new Set([
  'executions',
  'summary',
  'timeseries',
  'models',
  'errors',
  'runs',
  'alarm',
  'health',
]);

/** Paths under /api/ that name no endpoint, percent-encoded or raw (bad escapes included). */
const unknownPaths: fc.Arbitrary<HostileRequest> = fc
  .oneof(
    fc
      .string({ minLength: 1, maxLength: 60, unit: 'grapheme' })
      .map((segment) => encodeURIComponent(segment)),
    fc.stringMatching(/^[a-z0-9._~-]{1,30}$/),
    fc.constantFrom(
      '%',
      '%zz',
      '%ED%A0%80',
      '%C0%AE%C0%AE',
      '..%2f..%2fetc%2fpasswd',
      'summary%00',
      'executions%2f..',
      'x'.repeat(4_000),
      '%F0%9F%92%A9',
      'summary/extra',
      'executions/1',
    ),
  )
  .filter((segment) => !knownApiSegments.has(segment))
  .chain((segment) =>
    fc.constantFrom('GET', 'POST', 'DELETE').map((method) => ({
      kind: `unknown path (${method})`,
      request: {
        method,
        path: `/api/${segment}`,
        headers: JSON_HEADERS,
        ...(method === 'POST' ? { body: '{}' } : {}),
      },
    })),
  );

/** Query parameters each read endpoint must reject; unknown parameters alone are ignored, so never sent alone. */
const badQueries: fc.Arbitrary<HostileRequest> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...READ_PATHS),
      fc.oneof(
        fc.constantFrom(
          'from=x2026-10-01',
          'from=2026-02-30',
          'from=2026-10-01T10:30:00Z',
          'to=31/12/2026',
          'from=2026-10-10&to=2026-10-01',
          'from=2024-01-01&to=2026-01-01',
          'tz=Mars%2FOlympus',
          'tz=UTC%2B25',
          'tz=..%2F..%2Fetc%2Fpasswd',
          'status=ok',
          'status=',
          'from=%ED%A0%80',
          'from=%',
          'to=2026-10-01T00:00:00%2B99:00',
        ),
        nastyString.map((text) => `from=x${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, '?'))}`),
      ),
    )
    .map(([path, query]) => ({
      kind: `bad query ${path}`,
      request: { method: 'GET', path: `${path}?${query}` },
    })),
  fc
    .tuple(
      fc.constantFrom(
        ['/api/timeseries', 'granularity=minute'],
        ['/api/timeseries', 'granularity=week'],
        ['/api/errors', 'limit=0'],
        ['/api/errors', 'limit=51'],
        ['/api/errors', 'limit=abc'],
        ['/api/errors', 'limit=-1'],
        ['/api/runs', 'limit=201'],
        ['/api/runs', 'limit=0'],
        ['/api/runs', 'format=xml'],
        ['/api/runs', 'cursor=not-a-cursor'],
        ['/api/runs', 'cursor=eyJwayI6eyJTIjoiLi4vLi4ifX0'],
      ),
    )
    .map(([[path, query]]) => ({
      kind: `bad param ${path}`,
      request: { method: 'GET', path: `${path}?${query}` },
    })),
  fc.tuple(fc.constantFrom(...READ_PATHS), fc.integer({ min: 2_000, max: 60_000 })).map(([path, length]) => ({
    kind: 'huge query string',
    request: { method: 'GET', path: `${path}?from=x${'9'.repeat(length)}` },
  })),
);

const EVERY_GET = [...READ_PATHS, '/api/alarm', '/api/health'] as const;

/**
 * Ranges at the ends of the calendar on every GET: the day after 9999-12-31
 * leaves four-digit years, and years before 1970 hold nothing; each is a 400
 * naming the parameter, answered at once.
 */
const calendarEdges: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom(...EVERY_GET),
    fc.constantFrom(
      'to=9999-12-31',
      'from=9999-12-31&to=9999-12-31',
      'from=9999-12-31T00:00:00Z&to=9999-12-31T23:00:00Z&tz=Pacific%2FKiritimati',
      'from=0001-01-01&to=0001-01-02',
      'from=0001-01-01T00:00:00Z&to=0001-01-01T05:00:00Z',
      'to=0001-01-01&tz=Asia%2FKolkata',
    ),
  )
  .map(([path, query]) => ({
    kind: `calendar edge ${path}`,
    request: { method: 'GET', path: `${path}?${query}` },
    expectedStatus: 400,
    expectedError: 'invalid_query',
  }));

/** Every hostile request, weighted so the cheap ones make up the bulk and the heavy ones still appear. */
export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  { arbitrary: brokenJson, weight: 12 },
  {
    arbitrary: invalidRecordText.map(({ kind, text }) => ({
      kind,
      request: post(text),
      expectedStatus: 400,
      expectedError: 'validation_failed',
    })),
    weight: 30,
  },
  { arbitrary: notUtf8, weight: 4 },
  { arbitrary: deepNesting, weight: 2 },
  { arbitrary: hugeStrings, weight: 2 },
  { arbitrary: badBatches, weight: 8 },
  { arbitrary: wrongContentType, weight: 6 },
  { arbitrary: wrongMethods, weight: 8 },
  { arbitrary: unknownPaths, weight: 8 },
  { arbitrary: badQueries, weight: 18 },
  { arbitrary: calendarEdges, weight: 4 },
);

/** Why `answer` breaks the contract for a hostile request, or null when it is a proper 4xx JSON error. */
export function contractViolation(hostile: HostileRequest, answer: HttpAnswer): string | null {
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}, expected a 4xx`;
  if (hostile.expectedStatus !== undefined && answer.status !== hostile.expectedStatus) {
    return `status ${answer.status}, the contract says ${hostile.expectedStatus}`;
  }
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) return `content-type "${type}", expected application/json`;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `body is not JSON: ${answer.body.slice(0, 200)}`;
  }
  if (typeof body !== 'object' || body === null) return 'body is not a JSON object';
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (typeof error !== 'string' || error === '') return 'body has no "error" code';
  if (typeof message !== 'string' || message.trim() === '') return 'body has no "message"';
  if (hostile.expectedError !== undefined && error !== hostile.expectedError) {
    return `error "${error}", the contract says "${hostile.expectedError}"`;
  }
  return null;
}

/** A short, printable description of a request for failure messages. */
export function describeRequest(hostile: HostileRequest): string {
  const body = hostile.request.body;
  const text = body === undefined ? '' : Buffer.isBuffer(body) ? body.toString('latin1') : body;
  const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
  const path =
    hostile.request.path.length > 200 ? `${hostile.request.path.slice(0, 200)}…` : hostile.request.path;
  return `[${hostile.kind}] ${hostile.request.method} ${path} ${JSON.stringify(hostile.request.headers ?? {})} ${JSON.stringify(shown)}`;
}

/**
 * HTTP messages no client library would send: bad request lines, bad header
 * names, conflicting or invalid lengths (request smuggling), bad chunks,
 * oversized headers, unsupported methods. Each must still get a 4xx JSON error.
 */
export const brokenFraming: readonly { readonly kind: string; readonly bytes: string }[] = [
  {
    kind: 'invalid Content-Length',
    bytes: 'GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n',
  },
  {
    kind: 'Content-Length with Transfer-Encoding (smuggling)',
    bytes:
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  },
  {
    kind: 'two Content-Length headers',
    bytes:
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}',
  },
  {
    kind: 'invalid chunk size',
    bytes:
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  },
  { kind: 'not a request line', bytes: 'GARBAGE\r\n\r\n' },
  { kind: 'unknown HTTP version', bytes: 'GET /api/summary HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n' },
  { kind: 'relative request target', bytes: 'GET api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' },
  {
    kind: 'absolute-form target (proxy request)',
    bytes: 'GET http://example.com/api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  },
  { kind: 'asterisk target', bytes: 'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' },
  {
    kind: 'space in a header name',
    bytes: 'GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: y\r\n\r\n',
  },
  {
    kind: 'control character in a header',
    bytes: 'GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\u0001b\r\n\r\n',
  },
  {
    kind: 'headers over 64 KiB',
    bytes: `GET /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`,
  },
  {
    kind: 'raw non-ASCII bytes in the target',
    bytes: 'GET /api/summary?from=\u00ff\u00fe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  },
  {
    kind: 'bad percent-encoding in the query',
    bytes: 'GET /api/summary?from=%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
  },
  { kind: 'TRACE', bytes: 'TRACE /api/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' },
  {
    kind: 'OPTIONS on ingest',
    bytes: 'OPTIONS /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
  },
  {
    kind: 'Expect: 100-continue with an invalid body',
    bytes:
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
  },
];

/** CONNECT asks a proxy for a tunnel; a server that is no proxy should still answer it. */
export const connectRequest = {
  kind: 'CONNECT',
  bytes: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
};

/** Why a raw answer is not a 4xx JSON error with a message, or null when it is. */
export function rawViolation(answer: { status: number; head: string; body: string } | null): string | null {
  if (answer === null) return 'no HTTP answer (the connection closed or stayed silent)';
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}`;
  if (!/content-type: application\/json/i.test(answer.head)) return 'not application/json';
  try {
    const body = JSON.parse(answer.body) as { error?: unknown; message?: unknown };
    return typeof body.error === 'string' && typeof body.message === 'string' && body.message !== ''
      ? null
      : 'no error code or message';
  } catch {
    return `body is not JSON: ${answer.body.slice(0, 100)}`;
  }
}

/**
 * One fixed case of issue 12 (hardening): a request the contract refuses
 * with `status`, whose answer must name `field` (a query parameter, a run
 * field, `body` or `Host`).
 */
export interface NamedCase {
  readonly kind: string;
  readonly request: HttpRequest;
  readonly status: number;
  readonly field: string;
}

/** Runs of the oversized-CSV case: 1,000 failures on RUN_WINDOW's first day with 2,000-character CJK messages. */
export const CSV_DAY = RUN_WINDOW.from;
export function oversizedCsvRuns(first: number, count: number): Record<string, unknown>[] {
  return makeRuns('hostile-csv', first, count, 0, { hours: 24 }).map((run) => ({
    ...run,
    status: 'failure',
    errorType: 'ToolError',
    errorMessage: '漢字かな交じり文'.repeat(250),
    filesModified: 0,
  }));
}

/** A valid run's JSON, cut where `r\xC3\x28` (C3 opens a two-byte sequence, 28 cannot continue it) goes into its executionId. */
const invalidUtf8Halves = JSON.stringify(makeRun('hostile', 8)).split('hostile-8');
const runWith = (fields: Record<string, unknown>) =>
  post(JSON.stringify({ ...makeRun('hostile', 7), ...fields }));
const HOUR = 3_600_000;

/** Every fixed case of issue 12 that an ordinary HTTP client can send. */
export function namedCases(nowMs: number): NamedCase[] {
  const calendar = EVERY_GET.flatMap((path) =>
    (
      [
        ['to=9999-12-31', 'to'],
        ['from=9999-12-31T00:00:00Z&to=9999-12-31T23:00:00Z', 'from'],
        ['from=0001-01-01', 'from'],
        ['from=0001-01-01T00:00:00Z&to=0001-01-01T05:00:00Z', 'from'],
      ] as const
    ).map(([query, field]) => ({
      kind: `year ${query.includes('9999') ? 9999 : '0001'} on ${path}`,
      request: { method: 'GET', path: `${path}?${query}` },
      status: 400,
      field,
    })),
  );
  const start = nowMs - 2 * HOUR;
  const at = (ms: number) => new Date(ms).toISOString();
  return [
    ...calendar,
    {
      kind: 'read budget: 50 models × 400 days in Kolkata',
      request: {
        method: 'GET',
        path: `/api/timeseries?from=2025-10-01&to=2026-11-04&tz=Asia%2FKolkata&granularity=day&model=${Array.from({ length: 50 }, (_, index) => `m${index}`).join(',')}`,
      },
      status: 400,
      field: 'model',
    },
    {
      kind: 'invalid UTF-8 inside a string',
      request: post(
        Buffer.concat([
          Buffer.from(invalidUtf8Halves[0] ?? ''),
          Buffer.from([0x72, 0xc3, 0x28]),
          Buffer.from(invalidUtf8Halves[1] ?? ''),
        ]),
      ),
      status: 400,
      field: 'body',
    },
    {
      kind: 'endTime a day in the future',
      request: runWith({ startTime: at(start), endTime: at(nowMs + 24 * HOUR) }),
      status: 400,
      field: 'endTime',
    },
    {
      kind: 'a 30-day run',
      request: runWith({ startTime: at(start - 30 * 24 * HOUR), endTime: at(start) }),
      status: 400,
      field: 'endTime',
    },
    { kind: 'cost of $1,000,000', request: runWith({ costUsd: 1_000_000 }), status: 400, field: 'costUsd' },
    {
      kind: 'tokens near 2^53',
      request: runWith({ inputTokens: 2 ** 52 }),
      status: 400,
      field: 'inputTokens',
    },
    {
      kind: 'bidi override in a model',
      request: runWith({ model: 'claude\u202Eevil' }),
      status: 400,
      field: 'model',
    },
    {
      kind: 'zero-width space in a model',
      request: runWith({ model: 'claude-sonnet-4\u200B' }),
      status: 400,
      field: 'model',
    },
    {
      kind: 'bidi isolate in an errorType',
      request: runWith({ status: 'failure', errorType: '\u2066ToolError' }),
      status: 400,
      field: 'errorType',
    },
    {
      kind: 'tab in an errorType',
      request: runWith({ status: 'failure', errorType: '\t=1+1' }),
      status: 400,
      field: 'errorType',
    },
    { kind: 'comma in a model', request: runWith({ model: 'gpt,claude' }), status: 400, field: 'model' },
    {
      kind: 'CSV over 5.5 MB',
      request: { method: 'GET', path: `/api/runs?format=csv&from=${CSV_DAY}&to=${CSV_DAY}` },
      status: 400,
      field: 'to',
    },
    {
      kind: 'foreign Host (DNS rebinding)',
      request: { method: 'GET', path: '/api/summary', headers: { host: 'metrics.attacker.example' } },
      status: 421,
      field: 'Host',
    },
  ];
}

/** Cases only raw bytes can carry, each with the status it must get. */
export const rawNamedCases: readonly { kind: string; bytes: string; status: number; field: string }[] = [
  {
    kind: 'no Host',
    bytes: 'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n',
    status: 400,
    field: 'Host',
  },
  {
    kind: '2,001 header fields, Host last',
    bytes: `GET /api/health HTTP/1.1\r\n${'x-a: 1\r\n'.repeat(2_000)}Host: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    status: 431,
    field: 'header',
  },
];

/** Requests that stall: headers never finished, a body never finished. Each must get a 408 JSON error. */
export const stalledRequests: readonly { kind: string; bytes: string }[] = [
  { kind: 'headers never finished', bytes: 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n' },
  {
    kind: 'body never finished',
    bytes:
      'POST /api/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"executionId":',
  },
];

/** Why a 4xx JSON body does not name `field`, or null when it does (an issue path, a rejected run's error path, or the message). */
export function fieldNotNamed(bodyText: string, field: string): string | null {
  let body: { message?: string; issues?: { path?: string }[]; rejected?: { errors?: { path?: string }[] }[] };
  try {
    body = JSON.parse(bodyText);
  } catch {
    return `body is not JSON: ${bodyText.slice(0, 200)}`;
  }
  const paths = [
    ...(body.issues ?? []).map((issue) => issue.path),
    ...(body.rejected ?? []).flatMap((run) => (run.errors ?? []).map((error) => error.path)),
  ];
  if (paths.includes(field) || (body.message ?? '').includes(field)) return null;
  return `does not name ${field}: ${bodyText.slice(0, 300)}`;
}
