/**
 * How the page writes times (static/text/format.js), run in Node: a server's text shows its times as the
 * reader's local time, and anything that is not a time stays as it was.
 */
import { describe, expect, it } from 'vitest';

const format = (await import(new URL('../../static/text/format.js', import.meta.url).href)) as {
  localTime(iso: string): string;
  withLocalTimes(text: string): string;
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
});
