/**
 * The command line of `npm run service`: flags for the options a developer changes most, over an optional
 * settings file that can hold every option (the keys of {@link ServiceOptions}). Flags win over the file. The
 * flags of limits come from their table in `limits.ts`.
 */
import { parseArgs } from 'node:util';
import { LIMIT_NAMES, limitSpec } from './limits.js';
import { readSettingsFile, type ServiceOptions, ServiceOptionsError } from './options.js';
import { defaultEventHandler } from './webpubsub/event-handler-options.js';

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ServiceOptionsError(`--${name} must be a number, not '${value}'`);
  return n;
}

/** Each limit that has a flag, as [flag, option name]. */
const LIMIT_FLAGS = LIMIT_NAMES.flatMap((name) => {
  const flag = limitSpec(name).flag;
  return flag === undefined ? [] : [[flag, name] as const];
});

/** Turns command-line arguments into service options. */
export function optionsFromArgs(args: readonly string[]): ServiceOptions {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      endpoint: { type: 'string' },
      'access-key': { type: 'string', multiple: true },
      upstream: { type: 'string' },
      'webpubsub-event-handler': { type: 'string' },
      settings: { type: 'string' },
      ...Object.fromEntries(LIMIT_FLAGS.map(([flag]) => [flag, { type: 'string' as const }])),
    },
  });
  const fromFile = values.settings ? readSettingsFile(values.settings) : {};
  const flags: Record<string, unknown> = {
    port: number('port', values.port),
    host: values.host,
    endpoint: values.endpoint,
    accessKeys: values['access-key'],
    upstream: values.upstream,
    // One Web PubSub event handler for every hub, taking every event (webPubSubHubs holds the full setting).
    webPubSubHubs:
      values['webpubsub-event-handler'] === undefined
        ? undefined
        : { '*': { eventHandlers: [defaultEventHandler(values['webpubsub-event-handler'])] } },
  };
  const limitValues = values as Readonly<Record<string, string | undefined>>;
  for (const [flag, name] of LIMIT_FLAGS) flags[name] = number(flag, limitValues[flag]);
  const options: Record<string, unknown> = { ...fromFile };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) options[key] = value;
  return options as ServiceOptions;
}
