/**
 * A retried send stored once: a marker blob per (conversation, sender, clientMessageId) claimed before the
 * append, the duplicate's lookup of the first message, and the takeover of a claim whose writer died
 * (docs/architecture.md, "History in Blob Storage").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type BlockBlobClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { isAlreadyExists, MAX_APPEND_ATTEMPTS, type SegmentAppender } from './append.js';
import { clientIdMarkerName } from './layout.js';
import type { MessageLocator } from './locate.js';
import { type AppendResult, type ChatMessage, newMessageId } from './message.js';
import { readStream } from './segment-reader.js';
import { listSegments } from './segments.js';

/** What {@link ClientIdMarkers} needs to know. */
export interface MarkerOptions {
  /** How old a `pending` marker must be (service clock) before another send may take it over. */
  readonly pendingClaimTimeoutMs: number;
  /** How often a duplicate send re-reads a `pending` marker. */
  readonly pendingPollMs: number;
}

type MarkerState = 'pending' | 'recovering' | 'stored';

interface Marker {
  message: ChatMessage;
  state: MarkerState;
  etag: string;
  /** Service clock: response `Date` minus `Last-Modified`. */
  ageMs: number;
}

/** Stores each (conversation, sender, clientMessageId) once, through the markers of one container. */
export class ClientIdMarkers {
  readonly #container: ContainerClient;
  readonly #appender: SegmentAppender;
  readonly #locator: MessageLocator;
  readonly #options: MarkerOptions;

  constructor(
    container: ContainerClient,
    appender: SegmentAppender,
    locator: MessageLocator,
    options: MarkerOptions,
  ) {
    this.#container = container;
    this.#appender = appender;
    this.#locator = locator;
    this.#options = options;
  }

  /**
   * Appends `message` unless its sender's `clientMessageId` was claimed already; then the claimed message comes
   * back with `duplicate: true`.
   */
  async appendOnce(message: ChatMessage, clientMessageId: string): Promise<AppendResult> {
    const marker = this.#container.getBlockBlobClient(
      clientIdMarkerName(message.conversation, message.from, clientMessageId),
    );
    const body = JSON.stringify(message);
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      let created: string | undefined;
      try {
        const response = await marker.upload(body, Buffer.byteLength(body), {
          conditions: { ifNoneMatch: '*' },
          metadata: { state: 'pending' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        created = response.etag ?? '*';
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      if (created !== undefined) {
        try {
          await this.#appender.append(message);
        } catch (error) {
          // The service refused the append outright (a 4xx): nothing was written, so release the claim and let a
          // retry start afresh. Any other failure may have been written: leave the marker for recovery.
          if (error instanceof RestError && error.statusCode !== undefined && error.statusCode < 500) {
            await marker.delete({ conditions: { ifMatch: created } }).catch(() => undefined);
          }
          throw error;
        }
        // Stored: the append was the commit. The marker stays `pending`; a retry finds the message by its id.
        return { message, duplicate: false };
      }
      const original = await this.#settleExistingMarker(marker);
      // `undefined`: the claim was released (its send was refused) while we waited; claim it afresh.
      if (original !== undefined) return { message: original, duplicate: true };
    }
    throw new Error(
      `Could not settle clientMessageId of ${message.from} in ${message.conversation} after ${MAX_APPEND_ATTEMPTS} attempts`,
    );
  }

  /**
   * Waits for an existing marker's message to be stored, or takes over a marker abandoned by a crashed send.
   * `undefined` when the marker has been deleted meanwhile.
   */
  async #settleExistingMarker(marker: BlockBlobClient): Promise<ChatMessage | undefined> {
    for (;;) {
      const current = await readMarker(marker);
      if (current === undefined) return undefined;
      if (current.state === 'stored') return current.message;
      if (await this.#isStored(current.message)) {
        // Only a still `pending` marker is updated: a taker's `recovering` is its own to finish.
        if (current.state === 'pending') {
          await marker
            .setMetadata({ state: 'stored' }, { conditions: { ifMatch: current.etag } })
            .catch(() => undefined);
        }
        return current.message;
      }
      if (current.ageMs >= this.#options.pendingClaimTimeoutMs) {
        let claimed: { etag?: string };
        try {
          // Only one taker wins the ETag; the others see a 412 and go round again.
          claimed = await marker.setMetadata(
            { state: 'recovering' },
            { conditions: { ifMatch: current.etag } },
          );
        } catch (error) {
          if (error instanceof RestError && [404, 409, 412].includes(error.statusCode ?? 0)) continue;
          throw error;
        }
        if (await this.#isStored(current.message)) {
          await marker.setMetadata({ state: 'stored' });
          return current.message;
        }
        // Never appended, so never seen by anyone: a fresh id and time file it where it is appended now.
        const recovered: ChatMessage = { ...current.message, ...newMessageId() };
        const body = JSON.stringify(recovered);
        try {
          await marker.upload(body, Buffer.byteLength(body), {
            conditions: { ifMatch: claimed.etag ?? '*' },
            metadata: { state: 'recovering' },
            blobHTTPHeaders: { blobContentType: 'application/json' },
          });
        } catch (error) {
          if (error instanceof RestError && (error.statusCode === 412 || error.statusCode === 404)) continue;
          throw error;
        }
        await this.#appender.append(recovered);
        await marker.setMetadata({ state: 'stored' });
        return recovered;
      }
      await sleep(this.#options.pendingPollMs);
    }
  }

  /** Whether `message.id` is stored, looked up within the reorder window (a few ranged reads, never a scan). */
  async #isStored(message: ChatMessage): Promise<boolean> {
    const segments = await listSegments(this.#container, message.conversation);
    if (segments.length === 0) return false;
    const found = await this.#locator.locate(message.conversation, segments, message.id, {
      exhaustive: false,
    });
    return found !== undefined;
  }
}

async function readMarker(marker: BlockBlobClient): Promise<Marker | undefined> {
  let response: Awaited<ReturnType<typeof marker.download>>;
  try {
    response = await marker.download();
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return undefined;
    throw error;
  }
  const message = JSON.parse((await readStream(response.readableStreamBody)).toString('utf8')) as ChatMessage;
  const state = (response.metadata?.state ?? 'pending') as MarkerState;
  const now = response.date?.getTime() ?? Date.now();
  const modified = response.lastModified?.getTime() ?? now;
  return { message, state, etag: response.etag ?? '*', ageMs: Math.max(0, now - modified) };
}
