import { readdirSync } from 'node:fs';
import azureFunctions from '@azure/functions';
import { describe, expect, it, vi } from 'vitest';
import { ROUTE_TABLE } from '../../src/app/routes.js';

describe('the route table', () => {
  it('is what src/functions registers with app.http, one file per function, nothing else', async () => {
    const order: string[] = [];
    const setup = vi.spyOn(azureFunctions.app, 'setup').mockImplementation((options) => {
      order.push(`setup ${JSON.stringify(options)}`);
    });
    const http = vi.spyOn(azureFunctions.app, 'http').mockImplementation((name) => {
      order.push(`http ${name}`);
    });
    const dir = new URL('../../src/functions/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    for (const file of files) await import(new URL(file, dir).href);
    const registered = http.mock.calls.map(([name, options]) => ({ name, ...options }));
    expect(registered).toEqual(expect.arrayContaining(ROUTE_TABLE.map((route) => ({ ...route }))));
    expect(registered).toHaveLength(ROUTE_TABLE.length);
    expect(files.sort()).toEqual(ROUTE_TABLE.map((route) => `${route.name}.ts`).sort());
    // HTTP streams are on before the first registration, so on Azure the upstream endpoint, as in the built-in
    // host, checks its caller before reading the body.
    expect(order[0]).toBe('setup {"enableHttpStream":true}');
    http.mockRestore();
    setup.mockRestore();
  });

  it('has unique names and routes', () => {
    expect(new Set(ROUTE_TABLE.map((r) => r.name)).size).toBe(ROUTE_TABLE.length);
    expect(new Set(ROUTE_TABLE.map((r) => r.route)).size).toBe(ROUTE_TABLE.length);
  });
});
