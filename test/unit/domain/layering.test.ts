/**
 * The domain speaks in typed figures; storage names and codecs live in
 * functions/store/. So nothing in functions/domain/ may import from the store
 * (or from the AWS SDK): a store module may use the domain, never the reverse.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DOMAIN = join(import.meta.dirname, '../../../functions/domain');

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiersOf(source: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;
  return [...source.matchAll(pattern)].map((match) => match[1] ?? '');
}

describe('functions/domain', () => {
  it('imports nothing from functions/store or the AWS SDK', () => {
    const files = readdirSync(DOMAIN, { recursive: true, encoding: 'utf8' }).filter((file) =>
      /\.tsx?$/.test(file),
    );
    expect(files.length).toBeGreaterThan(10);
    const offending = files.flatMap((file) =>
      specifiersOf(readFileSync(join(DOMAIN, file), 'utf8'))
        .filter((specifier) => /(^|\/)store(\/|$)/.test(specifier) || specifier.startsWith('@aws-sdk/'))
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('is caught by the check above (a store import is seen)', () => {
    expect(specifiersOf("import type { X } from '../store/aggregate-keys';")).toEqual([
      '../store/aggregate-keys',
    ]);
    expect(specifiersOf("const m = await import('../store/x');")).toEqual(['../store/x']);
  });
});
