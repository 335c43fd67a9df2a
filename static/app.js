/**
 * The chat page (docs/architecture.md, "The page"): Vue 3 and the vendored `@microsoft/signalr`, both served by
 * the app itself. `config.js` reads what the server decided (who, which dialect); with a name the chat opens
 * (components/chat-app.js), without one the page asks for it (components/name-prompt.js).
 */
import { ChatApp } from './components/chat-app.js';
import { NamePrompt } from './components/name-prompt.js';
import { readConfig } from './config.js';
import { createApp } from './vendor/vue.js';

const config = readConfig();
const app = config.user
  ? createApp(ChatApp, { config })
  : createApp(NamePrompt, { refused: config.refusedName ?? null });
app.mount('#app');
