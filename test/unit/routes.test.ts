import { readdirSync } from 'node:fs';
import azureFunctions from '@azure/functions';
import { describe, expect, it, vi } from 'vitest';
import { ROUTE_TABLE } from '../../src/app/routes.js';

describe('the route table', () => {
  it('is what src/functions registers with app.http, one file per function, nothing else', async () => {
    const http = vi.spyOn(azureFunctions.app, 'http').mockImplementation(() => undefined);
    const dir = new URL('../../src/functions/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    for (const file of files) await import(new URL(file, dir).href);
    const registered = http.mock.calls.map(([name, options]) => ({ name, ...options }));
    expect(registered).toEqual(expect.arrayContaining(ROUTE_TABLE.map((route) => ({ ...route }))));
    expect(registered).toHaveLength(ROUTE_TABLE.length);
    expect(files.sort()).toEqual(ROUTE_TABLE.map((route) => `${route.name}.ts`).sort());
    http.mockRestore();
  });

  it('has unique names and routes', () => {
    expect(new Set(ROUTE_TABLE.map((r) => r.name)).size).toBe(ROUTE_TABLE.length);
    expect(new Set(ROUTE_TABLE.map((r) => r.route)).size).toBe(ROUTE_TABLE.length);
  });
});
