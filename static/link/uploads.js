/**
 * Attachments from the page (docs/architecture.md, "Attachments"): the app checks the caller and issues a
 * create-only upload URL for one blob (`POST {apiBase}/uploads`), the browser PUTs the file straight to Blob
 * Storage with it (progress from XMLHttpRequest), then the message carries the attachment reference, which the
 * server checks against the stored blob. Reading goes through `{apiBase}/attachments`, which checks membership
 * and redirects to a short-lived read URL; until the message is stored, the sender's page shows an image from
 * the file itself (upload-previews.js).
 */

import { fileProblem, refusalInWords } from '../text/file-words.js';
import { ref } from '../vendor/vue.js';
import { nameQuery } from './link-retry.js';
import { keepPreview, previewOf } from './upload-previews.js';

/** Types shown inline (the server's list: src/lib/attachments/rules.ts). */
export const INLINE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

/**
 * What a message carries about its file.
 * @typedef {{ blob: string, name: string, type: string, size: number, width?: number, height?: number }} Attachment
 * @typedef {{ apiBase: string, user: string, auth?: string }} ApiConfig
 */

/** @param {string} type */
export function isInlineImage(type) {
  return INLINE_IMAGE_TYPES.includes(type);
}

/**
 * `{apiBase}/<path>?name=…&…` (the name only without sign-in, as negotiate).
 * @param {ApiConfig} config @param {string} path @param {Record<string, string>} [params]
 */
function apiUrl(config, path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const name = nameQuery(config);
  const parts = [name, query].filter(Boolean).join('&');
  return `${config.apiBase}/${path}${parts ? `?${parts}` : ''}`;
}

/**
 * The URL an attachment is read from: the app checks the reader, then redirects to Blob Storage.
 * @param {ApiConfig} config @param {string} conversation @param {Attachment} attachment
 */
export function attachmentUrl(config, conversation, attachment) {
  return apiUrl(config, 'attachments', { conversation, blob: attachment.blob, type: attachment.type });
}

/** "1.2 MB", "340 KB", "12 bytes". @param {number} bytes */
export function sizeLabel(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A refusal whose message is already a whole sentence about the file (no "was not sent:" before it). */
class FileRefused extends Error {}

/**
 * An image's size in pixels, so the list can reserve its space, and its preview for the sender until its message
 * is stored (upload-previews.js); `undefined` when it cannot be decoded.
 * @param {Blob} file
 * @returns {Promise<{ width: number, height: number, preview?: string } | undefined>}
 */
async function imageLook(file) {
  try {
    const bitmap = await createImageBitmap(file);
    try {
      if (bitmap.width <= 0 || bitmap.height <= 0) return undefined;
      const preview = previewOf(bitmap);
      return { width: bitmap.width, height: bitmap.height, ...(preview ? { preview } : {}) };
    } finally {
      bitmap.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * PUTs `file` to the upload URL with the headers the app named; `onProgress` gets 0…1.
 * @param {{ uploadUrl: string, headers: Record<string, string> }} grant @param {Blob} file
 * @param {(fraction: number) => void} onProgress
 */
function put(grant, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', grant.uploadUrl);
    for (const [name, value] of Object.entries(grant.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () =>
      xhr.status === 201 || xhr.status === 200
        ? resolve(undefined)
        : reject(new Error(`The upload was refused by storage (${xhr.status}): try again`));
    xhr.onerror = () =>
      reject(new Error('The upload did not reach storage: check the connection and try again'));
    xhr.send(file);
  });
}

/**
 * Uploads one file for `conversation` and resolves with the attachment reference to send; a refusal (too
 * large, wrong type, not a member) rejects with the app's message, which says what to fix (an empty or too
 * large file in plain words, {@link refusalInWords}).
 * @param {ApiConfig & { maxAttachmentBytes?: number | null }} config @param {string} conversation @param {File} file
 * @param {(fraction: number) => void} [onProgress]
 * @returns {Promise<Attachment>}
 */
export async function uploadFile(config, conversation, file, onProgress = () => {}) {
  const response = await fetch(apiUrl(config, 'uploads'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      conversation,
      name: file.name || 'pasted image',
      type: file.type,
      size: file.size,
    }),
  });
  const grant = await response.json().catch(() => ({}));
  if (!response.ok) {
    const name = file.name || 'The pasted image';
    const words = refusalInWords(grant ?? {}, name, file.size, config.maxAttachmentBytes);
    if (words !== null) throw new FileRefused(words);
    throw new Error(grant?.message ?? `The upload was refused (${response.status})`);
  }
  await put(grant, file, onProgress);
  const look = isInlineImage(grant.type) ? await imageLook(file) : undefined;
  if (look?.preview) keepPreview(grant.blob, look.preview);
  const size = look ? { width: look.width, height: look.height } : {};
  return { blob: grant.blob, name: grant.name, type: grant.type, size: grant.size, ...size };
}

/**
 * The page's uploads: one at a time, its progress for the page to show, its error until dismissed or the next
 * upload. `send(conversation, attachment)` sends the message once the file is stored. An empty file, or one
 * larger than the server's limit (`maxAttachmentBytes`, when the page was told it), is refused before uploading.
 * @param {ApiConfig & { maxAttachmentBytes?: number | null }} config
 * @param {(conversation: string, attachment: Attachment) => void} send
 */
export function createUploader(config, send) {
  const current = ref(/** @type {{ name: string, progress: number } | null} */ (null));
  const error = ref(/** @type {string | null} */ (null));

  /** @param {string} conversation @param {File} file */
  async function attach(conversation, file) {
    if (current.value) return;
    error.value = fileProblem(file.name || 'The pasted image', file.size, config.maxAttachmentBytes);
    if (error.value !== null) return;
    current.value = { name: file.name || 'pasted image', progress: 0 };
    try {
      const attachment = await uploadFile(config, conversation, file, (progress) => {
        if (current.value) current.value = { ...current.value, progress };
      });
      send(conversation, attachment);
    } catch (failure) {
      error.value =
        failure instanceof FileRefused
          ? failure.message
          : `${file.name || 'The file'} was not sent: ${failure instanceof Error ? failure.message : String(failure)}`;
    } finally {
      current.value = null;
    }
  }

  return { current, error, attach };
}
