/**
 * The command line of `npm run service`: flags for the options a developer changes most, over an optional
 * settings file that can hold every option (the keys of {@link ServiceOptions}). Flags win over the file.
 */
import { parseArgs } from 'node:util';
import { readSettingsFile, type ServiceOptions, ServiceOptionsError } from './options.js';

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ServiceOptionsError(`--${name} must be a number, not '${value}'`);
  return n;
}

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
      settings: { type: 'string' },
      'upstream-timeout': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      keepalive: { type: 'string' },
    },
  });
  const fromFile = values.settings ? readSettingsFile(values.settings) : {};
  const flags: Record<string, unknown> = {
    port: number('port', values.port),
    host: values.host,
    endpoint: values.endpoint,
    accessKeys: values['access-key'],
    upstream: values.upstream,
    upstreamTimeoutMs: number('upstream-timeout', values['upstream-timeout']),
    maxMessageBytes: number('max-message-bytes', values['max-message-bytes']),
    keepAliveIntervalMs: number('keepalive', values.keepalive),
  };
  const options: Record<string, unknown> = { ...fromFile };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) options[key] = value;
  return options as ServiceOptions;
}
