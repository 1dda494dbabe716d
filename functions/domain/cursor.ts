/**
 * The drill-down cursor: a position in the byStartTime index's own sort
 * order (`<15-digit startMs>#<executionId>`, the same in every shard of a
 * day), and the next page holds the runs strictly below it. The position is
 * either the key of the last run returned, or, when a page stopped at its read
 * budget, the point down to which every shard has been read: a run's key, or
 * a bare `<15-digit ms>` (every run that started at or after that instant has
 * been read). Resuming below a key, rather than after an offset, is what keeps
 * pages stable under concurrent writes: a run written meanwhile lands either
 * above the cursor (a page already read: not repeated) or below it (read in
 * turn: not skipped). Opaque to clients: base64url of a small versioned JSON.
 */

export interface RunCursor {
  /** `<15-digit startMs>#<executionId>` or `<15-digit ms>`: the next page starts strictly below it. */
  readonly position: string;
}

const POSITION = /^\d{15}(#[A-Za-z0-9._:-]{1,128})?$/;

export function encodeCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify({ v: 2, p: cursor.position })).toString('base64url');
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
  const { v, p } = value as Record<string, unknown>;
  if (v !== 2 || typeof p !== 'string' || !POSITION.test(p)) return undefined;
  return { position: p };
}

/** Epoch ms of a cursor's position (the start of its run, or its bare instant). */
export function cursorStartMs(cursor: RunCursor): number {
  return Number(cursor.position.slice(0, 15));
}

/** Zero-padded epoch ms: a bare position, and the time part of every index sort key. */
export function paddedMs(epochMs: number): string {
  return String(epochMs).padStart(15, '0');
}
