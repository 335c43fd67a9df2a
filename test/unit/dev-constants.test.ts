import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AZURITE_ACCOUNT,
  AZURITE_ACCOUNT_KEY,
  azuriteConnectionString,
  DEV_ACCESS_KEY,
  DEV_WEBPUBSUB_ACCESS_KEY,
  devSignalRConnectionString,
  devWebPubSubConnectionString,
} from '../../src/local/dev-constants.js';
import { DEV_ACCESS_KEY as SERVICE_DEFAULT_KEY } from '../../src/local/service/index.js';

const settings = JSON.parse(readFileSync(new URL('../../local.settings.json', import.meta.url), 'utf8')) as {
  Values: Record<string, string>;
};

describe('development constants', () => {
  it('local.settings.json points the app at the local service with the development key', () => {
    expect(settings.Values.AzureSignalRConnectionString).toBe(devSignalRConnectionString());
    expect(settings.Values.AzureSignalRConnectionString).toContain(`AccessKey=${DEV_ACCESS_KEY};`);
  });

  it('local.settings.json turns Web PubSub on, on the same local service with its Web PubSub key', () => {
    expect(settings.Values.REALTIME_SERVICE).toBe('webpubsub');
    expect(settings.Values.WebPubSubConnectionString).toBe(devWebPubSubConnectionString());
    expect(settings.Values.WebPubSubConnectionString).toContain(`AccessKey=${DEV_WEBPUBSUB_ACCESS_KEY};`);
    expect(DEV_WEBPUBSUB_ACCESS_KEY).not.toBe(DEV_ACCESS_KEY);
  });

  it("local.settings.json keeps history in Azurite's well-known account on the default port", () => {
    expect(settings.Values.CHAT_HISTORY_STORAGE).toBe(azuriteConnectionString());
    expect(settings.Values.CHAT_HISTORY_STORAGE).toContain(
      `AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};`,
    );
  });

  it('the local service accepts the development key by default', () => {
    expect(SERVICE_DEFAULT_KEY).toBe(DEV_ACCESS_KEY);
  });
});
