/**
 * CSV for the chart exports: RFC 4180 quoting, and a guard against formula
 * injection, since error messages and model names come from agents, not from
 * us, and spreadsheets execute cells starting with = + - @. Also how a file
 * is saved. A lazy chunk: only a download needs it.
 */
import { csvCell } from '../../functions/domain/csv';

export type Cell = string | number | null | undefined;

/** One CSV field: every text is guarded as free text (labels come from agents); numbers are written as they are. */
export const csvField = (value: Cell): string => csvCell(value, true);

/** A whole CSV document with a header row and CRLF line ends. */
export function buildCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return `${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** "Cost per bucket" → "cost-per-bucket-2026-11-01-2026-11-07.csv". */
export function csvFileName(title: string, from: string, to: string): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
  return `${slug(title)}-${slug(from)}-${slug(to)}.csv`;
}

/** Saves a file through a temporary link. */
export function saveFile(contents: Blob, fileName: string): void {
  const url = URL.createObjectURL(contents);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
