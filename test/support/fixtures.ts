/**
 * The per-file setups integration tests share. Call each at the top level of a test file: it registers the
 * beforeAll/afterAll that start and stop what it gives, and its getters work inside tests and hooks.
 */
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll } from 'vitest';
import { type RunningAzurite, startAzurite } from '../../src/local/azurite.js';
import { type ChatClient, type ChatDialect, type ConnectOptions, connectChat } from './chat-clients.js';
import { type RunningStack, type StackOptions, startStack } from './stack.js';

export interface AzuriteFixture {
  /** The running in-memory Azurite. */
  readonly azurite: RunningAzurite;
  /** A client for a container of this Azurite (a fresh random name unless given; not created). */
  container(name?: string, connectionString?: string): ContainerClient;
}

/** One in-memory Azurite per test file. */
export function useAzurite(): AzuriteFixture {
  let azurite: RunningAzurite | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  const running = () => {
    if (!azurite) throw new Error('Azurite is not running: use it inside tests or hooks');
    return azurite;
  };
  return {
    get azurite() {
      return running();
    },
    container(name = `t-${randomUUID()}`, connectionString = running().connectionString) {
      return BlobServiceClient.fromConnectionString(connectionString).getContainerClient(name);
    },
  };
}

export interface ChatFixture {
  /** The running stack (available inside tests, once beforeAll has run). */
  readonly stack: RunningStack;
  /** Connects `user` through the app's negotiate and resolves once `welcome` arrived; closed after the file. */
  connect(user: string, dialect: ChatDialect, options?: ConnectOptions): Promise<ChatClient>;
}

/** One whole local stack per test file, with chat clients on it that are closed when the file ends. */
export function useChatStack(options: StackOptions = {}): ChatFixture {
  let stack: RunningStack | undefined;
  const clients: ChatClient[] = [];
  beforeAll(async () => {
    stack = await startStack(options);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await stack?.stop();
  });
  const running = () => {
    if (!stack) throw new Error('The stack is not running: use it inside tests or hooks');
    return stack;
  };
  return {
    get stack() {
      return running();
    },
    async connect(user, dialect, options) {
      const client = await connectChat(running().functionsUrl, user, dialect, options);
      clients.push(client);
      return client;
    },
  };
}
