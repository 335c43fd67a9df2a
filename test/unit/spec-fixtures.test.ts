/**
 * The operation lists extracted from Microsoft's newer data-plane specs (test/fixtures/specs/*.operations.json,
 * sources in test/fixtures/specs/README.md) are complete and faithful:
 *
 * - each names its source by repository, path and commit, and lists each operation once;
 * - its count is the number of operations the spec file has (counted in the file at that commit);
 * - the Web PubSub list holds exactly the operations Microsoft's own `@azure/web-pubsub` client calls (its
 *   generated operation specs target the same api-version): an independent reading of the same spec; and its
 *   `clientStatuses` are the statuses that client accepts, where they differ from the spec file's;
 * - when the original spec file is in REST_SPECS_DIR (under the name `<extraction>.json`), the extraction
 *   equals the file's operations, parameters and response codes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header';
  required: boolean;
  type: string;
  [rule: string]: unknown;
}

interface Operation {
  operationId: string;
  method: string;
  path: string;
  parameters: Parameter[];
  responses: string[];
  /** Web PubSub: the statuses Microsoft's client accepts (see the extraction's `statuses`). */
  clientStatuses?: string[];
}

interface Extraction {
  source: { repository: string; path: string; commit: string; license: string };
  info: { title: string; version: string; swagger: string };
  operations: Operation[];
}

const SPECS_DIR = join(import.meta.dirname, '../fixtures/specs');

/** Operations per spec file, counted in the `paths` of the file at the commit its extraction names. */
const OPERATIONS_IN_SPEC: Record<string, number> = {
  'webpubsub-2024-12-01': 25,
  'signalr-2023-07-01': 22,
  'signalr-2024-12-01': 26,
};

function load(name: string): Extraction {
  return JSON.parse(readFileSync(join(SPECS_DIR, `${name}.operations.json`), 'utf8')) as Extraction;
}

const EXTRACTIONS = readdirSync(SPECS_DIR)
  .filter((file) => file.endsWith('.operations.json'))
  .map((file) => file.replace(/\.operations\.json$/, ''))
  .sort();

describe('the spec extractions in test/fixtures/specs', () => {
  it('are the three kept today', () => {
    expect(EXTRACTIONS).toEqual(Object.keys(OPERATIONS_IN_SPEC).sort());
  });

  for (const name of Object.keys(OPERATIONS_IN_SPEC)) {
    it(`${name}: names its source and lists every operation of the spec once`, () => {
      const spec = load(name);
      expect(spec.source.repository).toMatch(/^Azure\/(azure-rest-api-specs|azure-signalr)$/);
      expect(spec.source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(spec.source.license).toBe('MIT');
      expect(name.endsWith(spec.info.version)).toBe(true);
      expect(spec.operations).toHaveLength(OPERATIONS_IN_SPEC[name] as number);
      const ids = spec.operations.map((o) => o.operationId);
      expect(new Set(ids).size).toBe(ids.length);
      const routes = spec.operations.map((o) => `${o.method} ${o.path}`);
      expect(new Set(routes).size).toBe(routes.length);
      for (const o of spec.operations) {
        expect(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).toContain(o.method);
        // Every path parameter of the template is listed, and nothing else is in the path.
        const inPath = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        const declared = o.parameters.filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared.sort(), `${o.operationId} path parameters`).toEqual(inPath);
        expect(o.parameters.find((p) => p.name === 'api-version')?.required, o.operationId).toBe(true);
        expect(o.responses.filter((r) => /^2\d\d$/.test(r)).length, o.operationId).toBeGreaterThan(0);
        expect(o.responses).toContain('default');
      }
    });
  }

  it("webpubsub-2024-12-01 holds exactly the operations of @azure/web-pubsub's generated client", () => {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@azure/web-pubsub');
    const operationsDir = join(dirname(entry), 'generated', 'operations');
    const sdkRoutes = new Set<string>();
    const sdkStatuses = new Map<string, string[]>();
    for (const file of readdirSync(operationsDir).filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(join(operationsDir, file), 'utf8');
      const specs = /path: "([^"]+)",\s*httpMethod: "([A-Z]+)",\s*responses: \{([\s\S]*?)default:/g;
      for (const match of text.matchAll(specs)) {
        if (match[1] === '{nextLink}') continue;
        const route = `${match[2]} ${match[1]}`;
        sdkRoutes.add(route);
        sdkStatuses.set(
          route,
          [...(match[3] as string).matchAll(/(\d{3}):/g)].map((m) => m[1] as string),
        );
      }
    }
    const parameters = readFileSync(join(dirname(entry), 'generated', 'models', 'parameters.js'), 'utf8');
    expect(parameters).toMatch(/defaultValue: "2024-12-01"/);
    const operations = load('webpubsub-2024-12-01').operations;
    const routes = operations.map((o) => `${o.method} ${o.path}`);
    expect([...sdkRoutes].sort()).toEqual([...routes].sort());
    for (const o of operations) {
      expect(o.clientStatuses, o.operationId).toEqual(sdkStatuses.get(`${o.method} ${o.path}`));
    }
  });
});

const originals = process.env.REST_SPECS_DIR;

describe.skipIf(originals === undefined)('the spec extractions equal the spec files (REST_SPECS_DIR)', () => {
  for (const name of Object.keys(OPERATIONS_IN_SPEC)) {
    const file = join(originals ?? '', `${name}.json`);
    it.skipIf(!existsSync(file))(`${name}`, () => {
      const raw = JSON.parse(readFileSync(file, 'utf8'));
      const shared: Record<string, Record<string, unknown>> = raw.parameters ?? {};
      const found: Operation[] = [];
      for (const [path, methods] of Object.entries(raw.paths as Record<string, Record<string, unknown>>)) {
        for (const [method, value] of Object.entries(methods)) {
          if (method === 'parameters') continue;
          const op = value as {
            operationId: string;
            parameters?: Record<string, unknown>[];
            responses: Record<string, unknown>;
          };
          found.push({
            operationId: op.operationId,
            method: method.toUpperCase(),
            path,
            parameters: (op.parameters ?? []).map((p) =>
              normalise(p.$ref ? (shared[String(p.$ref).split('/').at(-1) as string] ?? {}) : p),
            ),
            responses: Object.keys(op.responses),
          });
        }
      }
      expect(load(name).operations.map(({ clientStatuses: _, ...o }) => o)).toEqual(found);
    });
  }
});

const RULES = ['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'default', 'enum'] as const;

/** A spec parameter in the extraction's form. */
function normalise(raw: Record<string, unknown>): Parameter {
  const schema = raw.schema as { type?: string; format?: string; $ref?: string; items?: { $ref?: string } };
  let type: string;
  if (raw.in === 'body') {
    if (schema?.$ref) type = schema.$ref.split('/').at(-1) as string;
    else if (schema?.type === 'array') type = `${schema.items?.$ref?.split('/').at(-1)}[]`;
    else type = schema?.format === 'byte' ? 'binary' : String(schema?.type);
  } else if (raw.type === 'array') type = 'string[]';
  else if (raw.type === 'integer') type = 'int32';
  else type = String(raw.type);
  const parameter: Parameter = {
    name: String(raw.name),
    in: raw.in as Parameter['in'],
    required: raw.required === true,
    type,
  };
  for (const rule of RULES) if (raw[rule] !== undefined) parameter[rule] = raw[rule];
  return parameter;
}
