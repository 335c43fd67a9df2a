/**
 * The Web PubSub wing: Azure Web PubSub's data plane. This file holds the wing's REST API over its hub state;
 * the client endpoint at `/client/hubs/{hub}` and the CloudEvents event handlers join it here
 * (docs/local-service.md, "The Web PubSub REST API").
 */
import type { WingFactory } from '../wing.js';
import { WebPubSubHubState } from './hub.js';
import { webPubSubRestApi } from './rest/api.js';

export const webPubSubWing: WingFactory = (ctx) => {
  const hubs = new WebPubSubHubState();
  return {
    // No client endpoint in this wing yet: no upgrade is its, and no connection makes an upstream call.
    upgrades: { serves: () => false, handle: async () => {} },
    rest: webPubSubRestApi(ctx, hubs),
    upstream: {
      connectionHeaders: () => ({}),
      callHeaders: () => ({}),
      isLastCall: () => false,
      isOpeningCall: () => false,
    },
  };
};
