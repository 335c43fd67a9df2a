/**
 * What the page says of a file it will not send (docs/architecture.md, "Attachments"): an empty one, or one
 * larger than the server takes, in plain words and human sizes, whether the page found it (it knows the limit
 * from its configuration) or the server refused it (../link/uploads.js).
 */

/**
 * A size as people say it, in binary units with at most one decimal: "11 MiB", "2.5 KiB", "12 bytes".
 * @param {number} bytes
 */
export function humanSize(bytes) {
  const units = ['KiB', 'MiB', 'GiB'];
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}

/**
 * Why a file cannot be sent, in plain words, or null: empty, or larger than `maxBytes` (the server's limit when
 * the page knows it). When both sizes round to the same words, they are given in bytes.
 * @param {string} name @param {number} size @param {number | null | undefined} maxBytes
 */
export function fileProblem(name, size, maxBytes) {
  if (size === 0) return `${name} is empty: nothing to send`;
  if (typeof maxBytes !== 'number' || size <= maxBytes) return null;
  const [shown, most] =
    humanSize(size) === humanSize(maxBytes)
      ? [`${size} bytes`, `${maxBytes} bytes`]
      : [humanSize(size), humanSize(maxBytes)];
  return `${name} is ${shown}; files can be at most ${most}`;
}

/**
 * A refusal the page can say better than the server's message (written for whoever calls the API): a file too
 * large or empty, in the words of `fileProblem`; null for any other.
 * @param {{ code?: unknown, message?: unknown }} refusal @param {string} name @param {number} size
 * @param {number | null | undefined} maxBytes
 */
export function refusalInWords(refusal, name, size, maxBytes) {
  if (refusal.code === 'attachment-too-large') {
    const said = /at most (\d+)/.exec(String(refusal.message ?? ''));
    const most = typeof maxBytes === 'number' ? maxBytes : said ? Number(said[1]) : null;
    return most !== null && size > most
      ? fileProblem(name, size, most)
      : `${name} is ${humanSize(size)}: larger than this server accepts`;
  }
  if (refusal.code === 'invalid-attachment' && size === 0) return fileProblem(name, 0, maxBytes);
  return null;
}
