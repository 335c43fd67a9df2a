/**
 * What the sender's page shows of an image it sent until the message is stored (docs/architecture.md,
 * "Attachments"): a preview drawn from the file itself, since the app serves a file only once a stored message
 * claimed it (asked for before, it answers 404). Each preview is a small `data:` image (the page's CSP allows
 * `data:` images, not `blob:` URLs), kept by blob name until the stored image has loaded in its place.
 */

/** Previews kept at most; past it the oldest is dropped (its message then shows the file's name until stored). */
export const DEFAULT_MAX_UPLOAD_PREVIEWS = 10;
/** Widest and tallest a preview is drawn, in device pixels: twice an inline image's largest CSS size. */
export const PREVIEW_MAX_WIDTH_PX = 720;
export const PREVIEW_MAX_HEIGHT_PX = 640;

/** Previews by blob name, oldest first. @type {Map<string, string>} */
const previews = new Map();

/**
 * A `data:` URL of `bitmap` scaled down to the preview bounds, or `undefined` when the page cannot draw it.
 * @param {ImageBitmap} bitmap
 */
export function previewOf(bitmap) {
  const scale = Math.min(1, PREVIEW_MAX_WIDTH_PX / bitmap.width, PREVIEW_MAX_HEIGHT_PX / bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext('2d');
  if (!context) return undefined;
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  // WebP where the browser writes it (a browser that cannot writes PNG instead).
  const url = canvas.toDataURL('image/webp', 0.9);
  return url.startsWith('data:image/') ? url : undefined;
}

/**
 * Keeps the preview of the upload named `blob`, dropping the oldest past `max`.
 * @param {string} blob @param {string} url
 */
export function keepPreview(blob, url, max = DEFAULT_MAX_UPLOAD_PREVIEWS) {
  previews.delete(blob);
  previews.set(blob, url);
  for (const oldest of previews.keys()) {
    if (previews.size <= max) break;
    previews.delete(oldest);
  }
}

/** The kept preview of `blob`, if any. @param {string} blob */
export function keptPreview(blob) {
  return previews.get(blob);
}

/** The stored image has loaded: its preview is no longer needed. @param {string} blob */
export function dropPreview(blob) {
  previews.delete(blob);
}
