/** The IANA zones the zone picker offers, and how a typed search narrows them. Pure. */
import { dateFormat } from './format';

/**
 * Intl lists some zones under CLDR's old names (Asia/Calcutta); a reader
 * searches for today's IANA name (Kolkata). Both name the same zone, and the
 * API accepts either.
 */
const RENAMED: Record<string, string> = {
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
};

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every zone the browser knows, by its current name, sorted, UTC first (Intl's list may leave it out). */
export function allZones(supported: readonly string[] = Intl.supportedValuesOf('timeZone')): string[] {
  const names = supported.map((zone) => {
    const renamed = RENAMED[zone];
    return renamed && knownZone(renamed) ? renamed : zone;
  });
  return ['UTC', ...[...new Set(names)].filter((zone) => zone !== 'UTC').sort()];
}

/** "america/new york" for America/New_York: what a search is matched against. */
function searchable(zone: string): string {
  return zone.toLowerCase().replace(/_/g, ' ');
}

/**
 * The zones matching every word of `query` (case-insensitive; "_" reads as a
 * space, so "new york" and "new_york" both find America/New_York). Zones
 * whose city (the last part) starts with the query come first, then the list
 * order.
 */
export function matchZones(zones: readonly string[], query: string): string[] {
  const words = searchable(query).trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...zones];
  const matches = zones.filter((zone) => {
    const text = searchable(zone);
    return words.every((word) => text.includes(word));
  });
  const phrase = words.join(' ');
  const city = (zone: string) => searchable(zone).split('/').pop() ?? '';
  const first = matches.filter((zone) => city(zone).startsWith(phrase));
  return [...first, ...matches.filter((zone) => !city(zone).startsWith(phrase))];
}

/** "UTC+05:30" for Asia/Kolkata at `atMs`; "UTC" for a zone at offset zero. */
export function zoneOffset(zone: string, atMs: number): string {
  const part = dateFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(atMs))
    .find((p) => p.type === 'timeZoneName')?.value;
  // longOffset reads "GMT+05:30", or "GMT" (some engines "GMT+00:00") at offset zero.
  return part ? part.replace('GMT', 'UTC').replace('+00:00', '').replace('-', '−') : '';
}
