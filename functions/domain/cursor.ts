/**
 * The drill-down cursor: the position of the last run returned, in the
 * byStartTime index's own key order (UTC start day, then
 * `<15-digit startMs>#<executionId>`). Resuming strictly after a key, rather
 * than after an offset, is what keeps pages stable under concurrent writes:
 * a run written meanwhile lands either before the cursor (a page already
 * read: not repeated) or after it (read in turn: not skipped). Opaque to
 * clients: base64url of a small versioned JSON.
 */

export interface RunCursor {
  /** UTC day partition of the last run returned, `YYYY-MM-DD`. */
  readonly startDay: string;
  /** Its index sort key, `<15-digit startMs>#<executionId>`. */
  readonly startKey: string;
}

const START_KEY = /^(\d{15})#([A-Za-z0-9._:-]{1,128})$/;

export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, d: cursor.startDay, k: cursor.startKey })).toString('base64url');
}

/** The cursor, or undefined when the text is not one encodeCursor made. */
export function decodeCursor(text: string): RunCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, d, k } = value as Record<string, unknown>;
  if (v !== 1 || typeof d !== 'string' || typeof k !== 'string') return undefined;
  const match = START_KEY.exec(k);
  if (!match) return undefined;
  // The day must be the UTC day of the key's own start: anything else was not made here.
  if (new Date(Number(match[1])).toISOString().slice(0, 10) !== d) return undefined;
  return { startDay: d, startKey: k };
}

/** Epoch ms a cursor's run started at. */
export function cursorStartMs(cursor: RunCursor): number {
  return Number(cursor.startKey.slice(0, 15));
}
