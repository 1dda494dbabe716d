import { describe, expect, it } from 'vitest';
import { allZones, matchZones, zoneOffset } from '../../../frontend/src/zones';

const zones = allZones([
  'America/New_York',
  'America/North_Dakota/New_Salem',
  'Asia/Calcutta',
  'Europe/Paris',
  'UTC',
  'Pacific/Auckland',
]);

describe('allZones', () => {
  it('puts UTC first, once, whether or not Intl lists it', () => {
    expect(zones[0]).toBe('UTC');
    expect(zones.filter((zone) => zone === 'UTC')).toHaveLength(1);
    expect(allZones(['Europe/Paris', 'Asia/Calcutta'])).toEqual(['UTC', 'Asia/Kolkata', 'Europe/Paris']);
  });

  it('lists the IANA zones of this runtime by their current names', () => {
    const all = allZones();
    expect(all.length).toBeGreaterThan(300);
    expect(all).toContain('Asia/Kolkata');
    expect(all).not.toContain('Asia/Calcutta');
    expect(all).toContain('Europe/Kyiv');
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('matchZones', () => {
  it('reads "_" as a space and ignores case', () => {
    expect(matchZones(zones, 'new york')).toEqual(['America/New_York']);
    expect(matchZones(zones, 'NEW_YORK')).toEqual(['America/New_York']);
  });

  it('needs every word, in any order', () => {
    expect(matchZones(zones, 'salem america')).toEqual(['America/North_Dakota/New_Salem']);
    expect(matchZones(zones, 'paris tokyo')).toEqual([]);
  });

  it('ranks a city that starts with the query before other matches', () => {
    // "new" is in both New_York and New_Salem; both cities start with it, list order stays.
    expect(matchZones(zones, 'new')).toEqual(['America/New_York', 'America/North_Dakota/New_Salem']);
    expect(matchZones(zones, 'kolkata')).toEqual(['Asia/Kolkata']);
    // "a" is everywhere; Asia/Kolkata's city does not start with it, Pacific/Auckland's does.
    expect(matchZones(zones, 'auck')[0]).toBe('Pacific/Auckland');
    expect(matchZones(zones, 'a')[0]).toBe('Pacific/Auckland');
  });

  it('returns every zone for an empty query', () => {
    expect(matchZones(zones, '  ')).toEqual(zones);
  });
});

describe('zoneOffset', () => {
  it('gives the offset at the instant, with DST', () => {
    expect(zoneOffset('Asia/Kolkata', Date.UTC(2026, 0, 1))).toBe('UTC+05:30');
    expect(zoneOffset('America/New_York', Date.UTC(2026, 0, 15))).toBe('UTC−05:00');
    expect(zoneOffset('America/New_York', Date.UTC(2026, 6, 15))).toBe('UTC−04:00');
    expect(zoneOffset('UTC', Date.UTC(2026, 6, 15))).toBe('UTC');
  });
});
