/**
 * The directory of public channels: one empty blob per channel, `_channels/<group>`, with its title and topic
 * as metadata, so a page of the directory is one listing call of at most `limit` blobs, whatever the number of
 * channels (docs/architecture.md, "Private groups and channels"). Private groups are never listed in it.
 */
import { type ContainerClient, RestError } from '@azure/storage-blob';
import { blobNameSegment } from '../blob-names.js';
import type { GroupRecord } from './group-records.js';

/** The blob name prefix of the channel directory. */
export const CHANNELS_PREFIX = '_channels/';
/** Channels per `listChannels` page when `limit` is absent, and the largest `limit` accepted. */
export const DEFAULT_CHANNEL_PAGE_SIZE = 20;
export const MAX_CHANNEL_PAGE_SIZE = 100;
/** Longest `after` cursor of a directory page accepted (the service's continuation token). */
export const MAX_CHANNEL_CURSOR_LENGTH = 1024;

export interface ChannelEntry {
  readonly group: string;
  readonly title: string;
  readonly topic?: string;
}

export interface ChannelPage {
  readonly channels: readonly ChannelEntry[];
  /** The `after` of the next page; absent on the last. */
  readonly next?: string;
}

export class ChannelDirectory {
  readonly #container: ContainerClient;

  constructor(container: ContainerClient) {
    this.#container = container;
  }

  /** Lists or relists a channel with its title and topic: one write. */
  async put(record: GroupRecord): Promise<void> {
    await this.#blob(record.group).upload('', 0, {
      metadata: {
        group: encodeURIComponent(record.group),
        title: encodeURIComponent(record.title),
        ...(record.topic !== undefined ? { topic: encodeURIComponent(record.topic) } : {}),
      },
    });
  }

  /** One page of channels, sorted by name: one listing call of at most `limit` entries. */
  async page(limit: number, after?: string): Promise<ChannelPage> {
    const channels: ChannelEntry[] = [];
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix: CHANNELS_PREFIX, includeMetadata: true })
        .byPage({ maxPageSize: limit, ...(after !== undefined ? { continuationToken: after } : {}) });
      const first = await pages.next();
      if (first.done) return { channels };
      for (const item of first.value.segment.blobItems) {
        const entry = entryOf(item.metadata);
        if (entry !== undefined) channels.push(entry);
      }
      const next = first.value.continuationToken;
      return next ? { channels, next } : { channels };
    } catch (error) {
      // 404: no container yet; 400: a cursor the service does not recognise ends the listing.
      if (error instanceof RestError && (error.statusCode === 404 || error.statusCode === 400)) {
        return { channels };
      }
      throw error;
    }
  }

  #blob(group: string) {
    return this.#container.getBlockBlobClient(`${CHANNELS_PREFIX}${blobNameSegment(group)}`);
  }
}

function entryOf(metadata: Record<string, string> | undefined): ChannelEntry | undefined {
  if (metadata?.group === undefined) return undefined;
  try {
    const group = decodeURIComponent(metadata.group);
    const title = metadata.title !== undefined ? decodeURIComponent(metadata.title) : group;
    const topic = metadata.topic !== undefined ? decodeURIComponent(metadata.topic) : undefined;
    return { group, title, ...(topic !== undefined ? { topic } : {}) };
  } catch {
    return undefined;
  }
}
