import { describe, expect, it } from 'vitest';
import { GENERATE_TOKEN_API_VERSION } from '../../src/lib/signalr/index.js';
import { GENERATE_TOKEN_API_VERSIONS } from '../../src/lib/signalr/rest/paths.js';
import {
  SIGNALR_GENERATE_TOKEN_API_VERSIONS,
  SIGNALR_VERSIONS_WITHOUT_GENERATE_TOKEN,
  WEB_PUBSUB_ONLY_API_VERSIONS,
} from '../fixtures/signalr-api-versions.js';

describe(':generateToken api-version', () => {
  it('is a version Azure SignalR publishes the operation in, the newest of them', () => {
    expect(SIGNALR_GENERATE_TOKEN_API_VERSIONS).toContain(GENERATE_TOKEN_API_VERSION);
    expect(GENERATE_TOKEN_API_VERSION).toBe([...SIGNALR_GENERATE_TOKEN_API_VERSIONS].sort().at(-1));
  });

  it('is one list of the published versions, the one the local service accepts (and no other)', () => {
    expect(GENERATE_TOKEN_API_VERSIONS).toEqual(SIGNALR_GENERATE_TOKEN_API_VERSIONS);
  });

  it('is neither a Web PubSub version nor a SignalR version without the operation', () => {
    expect(WEB_PUBSUB_ONLY_API_VERSIONS).not.toContain(GENERATE_TOKEN_API_VERSION);
    expect(SIGNALR_VERSIONS_WITHOUT_GENERATE_TOKEN).not.toContain(GENERATE_TOKEN_API_VERSION);
  });
});
