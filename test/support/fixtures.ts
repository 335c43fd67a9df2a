/**
 * One whole local stack per test file, with chat clients on it that are closed when the file ends: the setup
 * every chat integration test shares. Call at the top level of a test file (it registers beforeAll/afterAll).
 */
import { afterAll, beforeAll } from 'vitest';
import { type ChatClient, type ChatDialect, connectChat } from './chat-clients.js';
import { type RunningStack, type StackOptions, startStack } from './stack.js';

export interface ChatFixture {
  /** The running stack (available inside tests, once beforeAll has run). */
  readonly stack: RunningStack;
  /** Connects `user` through the app's negotiate and resolves once `welcome` arrived; closed after the file. */
  connect(user: string, dialect: ChatDialect): Promise<ChatClient>;
}

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
    async connect(user, dialect) {
      const client = await connectChat(running().functionsUrl, user, dialect);
      clients.push(client);
      return client;
    },
  };
}
