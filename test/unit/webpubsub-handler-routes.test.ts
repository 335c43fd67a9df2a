import { describe, expect, it } from 'vitest';
import type { WebPubSubHubSettings } from '../../src/local/service/webpubsub/event-handler-options.js';
import {
  HandlerRoutes,
  MAX_CACHED_EVENT_NAME_LENGTH,
  MAX_CACHED_HANDLER_ROUTES,
} from '../../src/local/service/webpubsub/event-handlers.js';

const hubs: WebPubSubHubSettings = {
  chat: {
    eventHandlers: [
      { urlTemplate: 'http://a.example/{event}', userEventPattern: 'echo, ping', systemEvents: ['connect'] },
      { urlTemplate: 'http://b.example/{event}', userEventPattern: '*', systemEvents: ['disconnected'] },
    ],
  },
  '*': { eventHandlers: [{ urlTemplate: 'http://other.example/', systemEvents: ['connected'] }] },
};

describe('the handler routes of the Web PubSub wing', () => {
  it('sends each event to the first handler that takes it, in Azure order, and remembers the answer', () => {
    const routes = new HandlerRoutes(hubs);
    expect(routes.templateFor('chat', { user: 'ECHO' })?.urlTemplate).toBe('http://a.example/{event}');
    expect(routes.templateFor('chat', { user: 'other' })?.urlTemplate).toBe('http://b.example/{event}');
    expect(routes.templateFor('Chat', { system: 'connect' })?.urlTemplate).toBe('http://a.example/{event}');
    expect(routes.templateFor('chat', { system: 'disconnected' })?.urlTemplate).toBe(
      'http://b.example/{event}',
    );
    expect(routes.templateFor('chat', { system: 'connected' })).toBeNull();
    expect(routes.templateFor('lobby', { system: 'connected' })?.urlTemplate).toBe('http://other.example/');
    expect(routes.templateFor('lobby', { user: 'echo' })).toBeNull();
    // A user event and a system event of the same name are different events.
    expect(routes.templateFor('chat', { user: 'connect' })?.urlTemplate).toBe('http://b.example/{event}');
    // The same answer the next time, as the same template object (the upstream caller keeps its URLs by it).
    const first = routes.templateFor('chat', { user: 'echo' });
    expect(routes.templateFor('chat', { user: 'echo' })).toBe(first);
    expect(routes.templateFor('chat', { user: 'ping' })).toBe(first);
    expect(first).toEqual({ urlTemplate: 'http://a.example/{event}', auth: { type: 'None' } });
  });

  it('answers as before once a flood of event names has pushed its entry out', () => {
    const routes = new HandlerRoutes(hubs);
    const echo = routes.templateFor('chat', { user: 'echo' });
    for (let i = 0; i <= MAX_CACHED_HANDLER_ROUTES; i++) routes.templateFor('lobby', { user: `e${i}` });
    expect(routes.templateFor('chat', { user: 'echo' })).toBe(echo);
    expect(routes.templateFor('lobby', { user: 'e0' })).toBeNull();
  });

  it('routes an event name too long to remember as any other, every time', () => {
    const routes = new HandlerRoutes(hubs);
    const long = 'e'.repeat(MAX_CACHED_EVENT_NAME_LENGTH + 1);
    const template = routes.templateFor('chat', { user: long });
    expect(template?.urlTemplate).toBe('http://b.example/{event}');
    expect(routes.templateFor('chat', { user: long })).toBe(template);
    expect(routes.templateFor('lobby', { user: long })).toBeNull();
  });
});
