/**
 * Which invocation targets the service can carry upstream. A target becomes the `X-ASRS-Event` header of the
 * upstream call and the `{event}` of its URL template, so it must survive both unchanged:
 *
 * - header values are visible ASCII, spaces and tabs (RFC 9110 §5.5); .NET's HttpClient, which Azure's stack is
 *   built on, refuses anything outside ASCII ("Request headers must contain only ASCII characters"), and CR, LF
 *   or NUL would end or split the header;
 * - a header value loses leading and trailing whitespace on the way, so such a target would arrive renamed;
 * - `.` and `..` stay dot segments after percent-encoding (URL parsers read `%2e` as a dot), so `{event}` would
 *   move the URL to another path.
 *
 * A target outside these rules is a bad request of the client: its invocation is answered with a Completion
 * error (or, without an invocation id, dropped with a logged reason) and the connection stays open.
 */

/** Visible ASCII and the space: what a header value can hold unchanged (tabs are refused too, for clarity). */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** Why `name` cannot be an upstream event name, or `undefined` when it can. */
export function eventNameProblem(name: string): string | undefined {
  if (name === '') return 'the target is empty';
  if (!HEADER_SAFE.test(name)) {
    return 'the target must be printable ASCII (no control characters such as CR, LF or NUL, nor non-ASCII letters), because it travels in the X-ASRS-Event header';
  }
  if (name !== name.trim()) return 'the target must not start or end with a space';
  if (name === '.' || name === '..') return `the target '${name}' is a URL dot segment`;
  return undefined;
}

/** A target as a log or error message may show it: JSON-quoted (control characters escaped), at most 64 characters. */
export function quoteTarget(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(shown);
}
