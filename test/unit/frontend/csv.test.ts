import { describe, expect, it } from 'vitest';
import { buildCsv, csvField, csvFileName } from '../../../frontend/src/csv';

describe('csvField', () => {
  it('quotes commas, quotes and line breaks', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });
  it('writes numbers as they are and missing values as empty', () => {
    expect(csvField(0.125)).toBe('0.125');
    expect(csvField(-3)).toBe('-3');
    expect(csvField(null)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
  });
  it('defuses text that a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-1+2')).toBe("'-1+2");
  });
});

describe('buildCsv', () => {
  it('returns a header and rows with CRLF line ends', () => {
    expect(
      buildCsv(
        ['a', 'b'],
        [
          [1, 'x'],
          [null, 2],
        ],
      ),
    ).toBe('a,b\r\n1,x\r\n,2\r\n');
  });
});

describe('csvFileName', () => {
  it('returns a safe file name from a title and range', () => {
    expect(csvFileName('Cost and cost per run', '2026-11-01', '2026-11-07')).toBe(
      'cost-and-cost-per-run-2026-11-01-2026-11-07.csv',
    );
    expect(csvFileName('Executions', '2026-11-04T15:00:00Z', '2026-11-05T15:00:00Z')).toBe(
      'executions-2026-11-04t15-00-00z-2026-11-05t15-00-00z.csv',
    );
  });
});
