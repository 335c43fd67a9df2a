/**
 * How the page writes times (static/text/format.js), run in Node: a server's text shows its times as the
 * reader's local time, and anything that is not a time stays as it was.
 */
import { describe, expect, it } from 'vitest';

const format = (await import(new URL('../../static/text/format.js', import.meta.url).href)) as {
  localTime(iso: string): string;
  withLocalTimes(text: string): string;
  shortMoment(iso: string, now?: Date): string;
  timeOfDay(iso: string): string;
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
