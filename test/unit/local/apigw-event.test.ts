import { describe, expect, it } from 'vitest';
import {
  apiGatewayTime,
  BadRequestTargetError,
  collectHeaders,
  fromHandlerResult,
  isTextContentType,
  lambdaContext,
  parseQueryStringParameters,
  toApiGatewayEvent,
} from '../../../local/apigw-event';

const baseRequest = {
  method: 'GET',
  url: '/api/summary?from=2026-11-01&to=2026-11-07&model=a&model=b%2Bc',
  rawHeaders: [
    'Host',
    '127.0.0.1:3000',
    'User-Agent',
    'curl/8',
    'Accept',
    'text/html',
    'ACCEPT',
    'application/json',
  ],
  body: Buffer.alloc(0),
  sourceIp: '127.0.0.1',
  requestId: '7d4c1a5e-0000-4000-8000-000000000000',
  now: new Date('2026-03-12T19:03:58.123Z'),
  routeKey: 'GET /api/summary',
};

describe('toApiGatewayEvent', () => {
  it('builds a payload 2.0 event with raw and decoded query, lower-cased headers and the request context', () => {
    const event = toApiGatewayEvent(baseRequest);

    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/summary',
      rawPath: '/api/summary',
      rawQueryString: 'from=2026-11-01&to=2026-11-07&model=a&model=b%2Bc',
      queryStringParameters: { from: '2026-11-01', to: '2026-11-07', model: 'a,b+c' },
      headers: {
        host: '127.0.0.1:3000',
        'user-agent': 'curl/8',
        accept: 'text/html,application/json',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '3000',
      },
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1',
        http: {
          method: 'GET',
          path: '/api/summary',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'curl/8',
        },
        requestId: baseRequest.requestId,
        routeKey: 'GET /api/summary',
        stage: '$default',
        time: '12/Mar/2026:19:03:58 +0000',
        timeEpoch: Date.parse('2026-03-12T19:03:58.123Z'),
      },
      isBase64Encoded: false,
    });
    expect(event.body).toBeUndefined();
    expect(event.cookies).toBeUndefined();
  });

  it('passes a JSON body as text and a binary body base64-encoded', () => {
    const json = toApiGatewayEvent({
      ...baseRequest,
      method: 'POST',
      url: '/api/executions',
      rawHeaders: ['Content-Type', 'application/json; charset=utf-8'],
      body: Buffer.from('{"executionId":"é"}'),
    });
    expect(json).toMatchObject({ body: '{"executionId":"é"}', isBase64Encoded: false });
    expect(json.queryStringParameters).toBeUndefined();

    const binary = toApiGatewayEvent({
      ...baseRequest,
      method: 'POST',
      rawHeaders: ['Content-Type', 'application/octet-stream'],
      body: Buffer.from([0, 255, 1]),
    });
    expect(binary).toMatchObject({ body: 'AP8B', isBase64Encoded: true });
  });

  it('passes a JSON body that is not valid UTF-8 as its bytes, base64-encoded, for the strict decoder', () => {
    const bytes = Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const event = toApiGatewayEvent({
      ...baseRequest,
      method: 'POST',
      url: '/api/executions',
      rawHeaders: ['Content-Type', 'application/json'],
      body: bytes,
    });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(bytes);
  });

  it('moves cookies out of the headers into their own list', () => {
    const event = toApiGatewayEvent({ ...baseRequest, rawHeaders: ['Cookie', 'a=1; b=2', 'cookie', 'c=3'] });
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers.cookie).toBeUndefined();
  });

  it('rejects a query string that is not valid URL encoding with a BadRequestTargetError', () => {
    expect(() => toApiGatewayEvent({ ...baseRequest, url: '/api/summary?from=%E0%A4%A' })).toThrow(
      BadRequestTargetError,
    );
  });
});

describe('parseQueryStringParameters', () => {
  it('keeps names like __proto__ as plain keys and values without "=" as empty strings', () => {
    const parameters = parseQueryStringParameters('__proto__=x&constructor&a=1&&a=2');
    expect(parameters).toEqual({ ['__proto__']: 'x', constructor: '', a: '1,2' });
    expect(Object.getPrototypeOf(parameters)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('decodes + as a space and returns undefined for an empty query', () => {
    expect(parseQueryStringParameters('model=claude+sonnet')).toEqual({ model: 'claude sonnet' });
    expect(parseQueryStringParameters('')).toBeUndefined();
  });
});

describe('collectHeaders', () => {
  it('keeps a header named __proto__ as data', () => {
    const { headers } = collectHeaders(['__proto__', 'polluted']);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('isTextContentType', () => {
  it.each([
    ['application/json', true],
    ['application/problem+json; charset=utf-8', true],
    ['text/csv', true],
    ['application/x-www-form-urlencoded', true],
    ['image/png', false],
    [undefined, false],
  ])('%s is text: %s', (contentType, expected) => {
    expect(isTextContentType(contentType)).toBe(expected);
  });
});

describe('fromHandlerResult', () => {
  it('uses a structured result as it is, decoding a base64 body and keeping cookies', () => {
    const parts = fromHandlerResult({
      statusCode: 207,
      headers: { 'Content-Type': 'text/csv' },
      cookies: ['a=1; HttpOnly'],
      body: Buffer.from('x,y').toString('base64'),
      isBase64Encoded: true,
    });
    expect(parts).toEqual({
      statusCode: 207,
      headers: { 'content-type': 'text/csv' },
      cookies: ['a=1; HttpOnly'],
      body: Buffer.from('x,y'),
    });
  });

  it('answers 200 JSON for a string or an object without statusCode, as API Gateway infers', () => {
    expect(fromHandlerResult('{"ok":true}')).toMatchObject({
      statusCode: 200,
      body: Buffer.from('{"ok":true}'),
    });
    expect(fromHandlerResult({ ok: true } as never)).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"ok":true}'),
    });
  });
});

describe('lambdaContext', () => {
  it('counts the remaining time down from the 29 s deadline', () => {
    const context = lambdaContext('local-query', 'id', Date.now());
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(28_000);
    expect(context.awsRequestId).toBe('id');
  });
});

describe('apiGatewayTime', () => {
  it('pads day and time fields', () => {
    expect(apiGatewayTime(new Date('2026-01-02T03:04:05Z'))).toBe('02/Jan/2026:03:04:05 +0000');
  });
});
