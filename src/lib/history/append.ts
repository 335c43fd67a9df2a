/**
 * The append path: one message, one `appendBlock` of one JSON line to the conversation's current segment. An
 * append is atomic and needs no read-modify-write, so any number of Function instances can write the same
 * conversation without losing each other's messages.
 *
 * **Rollover.** An append blob holds at most 50 000 blocks, and no append condition counts blocks (`maxSize` and
 * `appendPosition` are byte conditions). Each append's response reports the blob's committed block count; the
 * writer that sees it reach `segmentBlockLimit` rolls: it creates the next segment with `If-None-Match: *` (two
 * writers rolling at once create it once, and neither truncates the other's), then **seals** the full one. From
 * then on the service refuses every append to the full segment with `BlobIsSealed` — a definite refusal, nothing
 * written — and the refused writer rolls too and appends again. So a writer whose remembered segment is stale
 * (an instance idle while others rolled on) can never file a new message among old ones, and a segment exceeds
 * the limit only by the appends already in flight when it filled (the default 49 000 leaves 1 000 blocks of
 * margin; `BlockCountExceedsLimit` is handled like `BlobIsSealed` should it ever be reached). Every message is
 * written by exactly one successful `appendBlock`: none is lost, none is written twice by a roll.
 */
import { type AppendBlobClient, type ContainerClient, RestError } from '@azure/storage-blob';
import { setBounded } from '../bounded-map.js';
import { FIRST_SEGMENT } from './layout.js';
import type { ChatMessage } from './message.js';
import { listSegments, segmentClient } from './segments.js';

/** Attempts of one append across rollovers and segment creation before it gives up. */
export const MAX_APPEND_ATTEMPTS = 10;

/** What a {@link SegmentAppender} needs to know. */
export interface AppenderOptions {
  /** Blocks per segment before writers move to the next one. */
  readonly segmentBlockLimit: number;
  /** Conversations whose current segment number is remembered. */
  readonly maxCachedConversations: number;
}

/** Appends messages to the conversations of one container, rolling segments as they fill. */
export class SegmentAppender {
  /** The segment this instance appends to, per conversation. A hint only: the service's answers correct it. */
  readonly #current = new Map<string, number>();
  /** The blob client of the segment last appended to, per conversation: built once, not per message. */
  readonly #clients = new Map<string, { segment: number; blob: AppendBlobClient }>();

  constructor(
    private readonly container: ContainerClient,
    private readonly options: AppenderOptions,
  ) {}

  /** Appends one message as one block, rolling to the next segment when the current one is full. */
  async append(message: ChatMessage): Promise<void> {
    const conversation = message.conversation;
    const line = Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
    let segment = this.#current.get(conversation) ?? (await this.#discoverSegment(conversation));
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const blob = this.#client(conversation, segment);
      try {
        const response = await blob.appendBlock(line, line.length);
        this.#rememberSegment(conversation, segment);
        if ((response.blobCommittedBlockCount ?? 0) >= this.options.segmentBlockLimit) {
          // This append filled the segment: move on now, so the next append goes to the new one.
          await this.#roll(conversation, segment);
        }
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'BlobNotFound') {
          await this.#createSegment(conversation, segment);
        } else if (code === 'BlockCountExceedsLimit' || code === 'BlobIsSealed') {
          segment = await this.#roll(conversation, segment);
        } else {
          throw error;
        }
      }
    }
    throw new Error(
      `Could not append to conversation ${conversation} after ${MAX_APPEND_ATTEMPTS} attempts (segments kept filling or vanishing)`,
    );
  }

  /** The append blob client of a segment, reused while the conversation stays on that segment. */
  #client(conversation: string, segment: number): AppendBlobClient {
    const cached = this.#clients.get(conversation);
    if (cached?.segment === segment) return cached.blob;
    const blob = segmentClient(this.container, conversation, segment);
    setBounded(this.#clients, conversation, { segment, blob }, this.options.maxCachedConversations);
    return blob;
  }

  /**
   * Moves past a full segment: to the next one, or further if other writers already rolled past it. Creates the
   * next segment first and then seals the full one, so a writer refused by the seal always finds a successor.
   */
  async #roll(conversation: string, full: number): Promise<number> {
    const latest = await this.#discoverSegment(conversation);
    const next = Math.max(full + 1, latest);
    await this.#createSegment(conversation, next);
    this.#rememberSegment(conversation, next);
    try {
      await segmentClient(this.container, conversation, full).seal();
    } catch (error) {
      // Sealed already, or gone: either way nothing more can be appended to it.
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 404)))
        throw error;
    }
    return next;
  }

  /** Creates a segment unless it exists. `If-None-Match: *` — a plain create would truncate a segment in use. */
  async #createSegment(conversation: string, segment: number): Promise<void> {
    try {
      await segmentClient(this.container, conversation, segment).create({
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' },
      });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /** The newest segment number of a conversation, from a listing ({@link FIRST_SEGMENT} when there is none yet). */
  async #discoverSegment(conversation: string): Promise<number> {
    const segments = await listSegments(this.container, conversation);
    const newest = segments.at(-1)?.segment ?? FIRST_SEGMENT;
    this.#rememberSegment(conversation, newest);
    return newest;
  }

  #rememberSegment(conversation: string, segment: number): void {
    const known = this.#current.get(conversation) ?? segment;
    setBounded(this.#current, conversation, Math.max(segment, known), this.options.maxCachedConversations);
  }
}

/** A create with `If-None-Match: *` on an existing blob: 409 BlobAlreadyExists (Azure) or 412 (some emulators). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412);
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof RestError)) return undefined;
  return error.code ?? (error.details as { errorCode?: string } | undefined)?.errorCode;
}
