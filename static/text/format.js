/**
 * How times, days and people are shown: local time of day for a message, a day heading when the day changes,
 * and a stable colour and initial per person so a busy room can be scanned by eye.
 */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const yearDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const shortYearDayFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});

/** @param {string} iso */
function toDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "14:05" (in the reader's locale and time zone). @param {string} iso */
export function timeOfDay(iso) {
  const date = toDate(iso);
  return date ? timeFormat.format(date) : '';
}

/** The full date and time, for a tooltip and for screen readers. @param {string} iso */
export function fullTime(iso) {
  const date = toDate(iso);
  return date ? fullFormat.format(date) : '';
}

/** A key that changes when the local calendar day changes. @param {string} iso */
export function dayKey(iso) {
  const date = toDate(iso);
  return date ? `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}` : '';
}

/** "Today", "Yesterday", "Monday 3 March", or with the year when it is not this year. @param {string} iso */
export function dayLabel(iso, now = new Date()) {
  const date = toDate(iso);
  if (!date) return '';
  const startOf = (/** @type {Date} */ d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((startOf(now) - startOf(date)) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return date.getFullYear() === now.getFullYear() ? dayFormat.format(date) : yearDayFormat.format(date);
}

/**
 * When a message was sent, in few words, for a line that stands outside the message list (a search result): the
 * time of day today ("14:05"), the day and month this year ("3 Mar"), with the year before ("3 Mar 2025").
 * @param {string} iso
 */
export function compactTime(iso, now = new Date()) {
  const date = toDate(iso);
  if (!date) return '';
  const thisYear = date.getFullYear() === now.getFullYear();
  if (thisYear && date.getMonth() === now.getMonth() && date.getDate() === now.getDate())
    return timeFormat.format(date);
  return thisYear ? shortDayFormat.format(date) : shortYearDayFormat.format(date);
}

/**
 * A moment of the coming days in few words, for "until …": "14:05" today, "tomorrow 14:05", else "8 Dec, 14:05"
 * (in the reader's locale and time zone); the text as it was when it is no time.
 * @param {string} iso
 */
export function shortMoment(iso, now = new Date()) {
  const date = toDate(iso);
  if (!date) return iso;
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (dayKey(iso) === dayKey(now.toISOString())) return timeOfDay(iso);
  if (dayKey(iso) === dayKey(tomorrow.toISOString())) return `tomorrow ${timeOfDay(iso)}`;
  return dayTimeFormat.format(date);
}

/** A hue (0–359) derived from a name, so each person keeps one colour. @param {string} name */
export function nameHue(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return hash % 360;
}

/** The first letter of a name, upper-cased, for an avatar. @param {string} name */
export function initial(name) {
  const first = [...name.trim()][0] ?? '?';
  return first.toLocaleUpperCase();
}

/**
 * What a text box's counter says with `remaining` characters left (negative: over the limit): "12 characters
 * left", "1 character too many". The message box and the edit box say it alike.
 * @param {number} remaining
 */
export function counterText(remaining) {
  const n = Math.abs(remaining);
  const characters = n === 1 ? 'character' : 'characters';
  return remaining < 0 ? `${n} ${characters} too many` : `${n} ${characters} left`;
}

/** Times as the server writes them in its messages ("… until 2026-12-08T02:19:46.938Z"). */
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** A moment as the reader's local date and time ("08/12/2026, 03:19:46"). @param {string} iso */
export function localTime(iso) {
  const date = toDate(iso);
  return date ? date.toLocaleString() : iso;
}

/** A server's text with every time in it written as the reader's local time. @param {string} text */
export function withLocalTimes(text) {
  return text.replace(ISO_TIME, (iso) => localTime(iso));
}
