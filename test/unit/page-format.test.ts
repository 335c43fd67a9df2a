/**
 * How the page writes times (static/text/format.js), run in Node: a server's text shows its times as the
 * reader's local time, and anything that is not a time stays as it was; a search result's time is the time of
 * day today, the day and month this year, and the year with them before.
 */
import { describe, expect, it } from 'vitest';

const format = (await import(new URL('../../static/text/format.js', import.meta.url).href)) as {
  localTime(iso: string): string;
  withLocalTimes(text: string): string;
  timeOfDay(iso: string): string;
  compactTime(iso: string, now?: Date): string;
  shortMoment(iso: string, now?: Date): string;
};

describe('times in the page', () => {
  it('writes the times of a server message as local time', () => {
    const iso = '2026-12-08T02:19:46.938Z';
    const text = `You are muted until ${iso}: try again then`;
    const shown = format.withLocalTimes(text);
    expect(shown).toBe(`You are muted until ${new Date(iso).toLocaleString()}: try again then`);
    expect(shown).not.toContain('T02:19');
  });

  it('leaves other text and impossible times alone', () => {
    expect(format.withLocalTimes('version 2026-12-08 is out')).toBe('version 2026-12-08 is out');
    expect(format.localTime('2026-13-45T99:99Z')).toBe('2026-13-45T99:99Z');
  });

  it("writes a search result's time as the time of day today, day and month this year, with the year before", () => {
    // Local times: what "today" is depends on the reader's time zone, as on the page.
    const now = new Date(2026, 5, 15, 18, 30);
    const today = new Date(2026, 5, 15, 9, 5).toISOString();
    expect(format.compactTime(today, now)).toBe(format.timeOfDay(today));

    const thisYear = format.compactTime(new Date(2026, 2, 3, 9, 5).toISOString(), now);
    expect(thisYear).toMatch(/3/);
    expect(thisYear).not.toMatch(/2026|09|:/);
    const yesterday = format.compactTime(new Date(2026, 5, 14, 23, 59).toISOString(), now);
    expect(yesterday).toMatch(/14/);
    expect(yesterday).not.toMatch(/2026|:/);

    const earlier = format.compactTime(new Date(2025, 11, 31, 9, 5).toISOString(), now);
    expect(earlier).toMatch(/31/);
    expect(earlier).toMatch(/2025/);
    expect(format.compactTime('not a time', now)).toBe('');
  });

  it('says when a mute ends in few words: the time today, "tomorrow" and the time, else day, month and time', () => {
    const now = new Date(2026, 11, 8, 9, 30);
    const at = (day: number, hour: number) => new Date(2026, 11, day, hour, 5).toISOString();
    expect(format.shortMoment(at(8, 14), now)).toBe(format.timeOfDay(at(8, 14)));
    expect(format.shortMoment(at(9, 1), now)).toBe(`tomorrow ${format.timeOfDay(at(9, 1))}`);
    const later = format.shortMoment(at(12, 14), now);
    expect(later).toContain('12');
    expect(later).not.toContain('2026');
    expect(format.shortMoment('not a time', now)).toBe('not a time');
  });
});
