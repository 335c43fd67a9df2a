/**
 * The built-in Functions host's settings, read as `func start` reads them: `local.settings.json` `Values` go
 * into `process.env` without overriding what is already set, and `Host.CORS` allows cross-origin callers.
 * See docs/architecture.md, "The local stack".
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { appRoot } from '../../app/static-files.js';

/** The parts of `local.settings.json` the host reads. */
export interface LocalSettings {
  Values?: Record<string, unknown>;
  Host?: { CORS?: string };
}

/** Reads local.settings.json (`undefined` when absent); a file that is not JSON is an error that names it. */
export function readSettingsFile(settingsFile: string | false | undefined): LocalSettings | undefined {
  if (settingsFile === false) return undefined;
  const file = settingsFile ?? join(appRoot(), 'local.settings.json');
  if (!existsSync(file)) {
    if (settingsFile !== undefined) throw new Error(`The settings file ${file} does not exist`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalSettings;
  } catch (error) {
    throw new Error(`The settings file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Puts `env` (overriding) and the settings file's Values (not overriding) into process.env; returns the undo. */
export function applyEnvironment(env: Record<string, string>, values: Record<string, unknown>): () => void {
  const previous = new Map<string, string | undefined>();
  const set = (name: string, value: string) => {
    if (!previous.has(name)) previous.set(name, process.env[name]);
    process.env[name] = value;
  };
  for (const [name, value] of Object.entries(env)) set(name, value);
  for (const [name, value] of Object.entries(values)) {
    if (process.env[name] === undefined && typeof value === 'string') set(name, value);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The `Host.CORS` setting (`*` or an origin list), or `undefined` when cross-origin calls are not allowed. */
export function corsOf(settings: LocalSettings | undefined): string | undefined {
  const cors = settings?.Host?.CORS;
  return typeof cors === 'string' && cors.trim() !== '' ? cors.trim() : undefined;
}

/**
 * Adds the CORS headers for a cross-origin request; answers a preflight itself and then returns `true`
 * (the request is done).
 */
export function applyCors(cors: string | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (!cors || !req.headers.origin) return false;
  res.setHeader('access-control-allow-origin', cors === '*' ? '*' : req.headers.origin);
  if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, PATCH, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  }
  return false;
}
