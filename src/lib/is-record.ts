/** The first guard of every parser of untrusted JSON: is the value an object with fields to read? */

/** Whether `value` is a plain JSON object (not `null`, not an array), whose fields may then be read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
