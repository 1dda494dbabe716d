import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvCell, csvHeader, csvRow } from '../../../functions/domain/csv';
import { cursorStartMs, decodeCursor, encodeCursor } from '../../../functions/domain/cursor';

describe('run cursor', () => {
  it('decodes what it encodes, run keys and bare instants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 86_400_000, max: 4_102_444_800_000 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/)),
        (startMs, executionId) => {
          const digits = String(startMs).padStart(15, '0');
          const cursor = { position: executionId === null ? digits : `${digits}#${executionId}` };
          expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
          expect(cursorStartMs(cursor)).toBe(startMs);
        },
      ),
    );
  });

  it('rejects anything it did not make', () => {
    const good = { position: `${String(Date.parse('2026-11-01T10:00:00Z')).padStart(15, '0')}#r-1` };
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"v":2').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(forged({ v: 1, p: good.position }))).toBeUndefined();
    expect(decodeCursor(forged({ v: 2, p: 'r-1' }))).toBeUndefined();
    expect(decodeCursor(forged({ v: 2, p: `${good.position}#` }))).toBeUndefined();
    expect(decodeCursor(forged({ v: 2, p: '12345' }))).toBeUndefined();
    expect(decodeCursor(forged({ v: 2, p: good.position }))).toEqual(good);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(0.25)).toBe('0.25');
  });

  it('defuses free text that a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("x")', true)).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-2+3', true)).toBe("'-2+3");
    expect(csvCell('-2', false)).toBe('-2');
  });

  it('writes a header and one CRLF-terminated row per run', () => {
    expect(csvHeader()).toBe(
      'executionId,startTime,endTime,durationMs,status,model,inputTokens,outputTokens,cacheReadTokens,cacheWriteTokens,costUsd,estimatedCostUsd,llmCalls,toolCalls,filesModified,errorType,errorMessage\r\n',
    );
    const row = csvRow({
      executionId: 'r-1',
      startTime: '2026-11-01T10:00:00Z',
      endTime: '2026-11-01T10:01:00Z',
      durationMs: 60_000,
      status: 'failure',
      model: 'm',
      inputTokens: 1,
      outputTokens: 2,
      cacheReadTokens: 3,
      cacheWriteTokens: 4,
      costUsd: null,
      estimatedCostUsd: 0.0125,
      llmCalls: 5,
      toolCalls: 6,
      filesModified: 0,
      errorType: 'Timeout',
      errorMessage: 'timed out, "after" 30 min',
    });
    expect(row).toBe(
      'r-1,2026-11-01T10:00:00Z,2026-11-01T10:01:00Z,60000,failure,m,1,2,3,4,,0.0125,5,6,0,Timeout,"timed out, ""after"" 30 min"\r\n',
    );
  });
});
