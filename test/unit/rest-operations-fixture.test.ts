/**
 * Checks the hand-written operation table (test/fixtures/rest-operations.ts) against Microsoft's spec files:
 * the copies kept in test/fixtures/specs (see its README.md for their sources), or those in REST_SPECS_DIR when
 * it is set. A table whose file is in neither is skipped (2020-10-01 lives in Azure/azure-rest-api-specs and
 * is kept as the hand-made table only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SPEC_TABLES, type SpecParameter } from '../fixtures/rest-operations.js';

const dir = process.env.REST_SPECS_DIR ?? join(import.meta.dirname, '../fixtures/specs');

interface RawParameter {
  $ref?: string;
  name: string;
  in: string;
  required?: boolean;
  type?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  default?: string;
  items?: { type?: string };
  schema?: RawParameter;
}

/** One parameter of a spec file in the table's form (Swagger 2.0 or OpenAPI 3). */
function normalise(raw: RawParameter): SpecParameter {
  const schema = raw.schema && raw.in !== 'body' ? raw.schema : raw;
  const type =
    raw.in === 'body'
      ? 'PayloadMessage'
      : schema.type === 'array'
        ? 'string[]'
        : schema.type === 'integer'
          ? 'int32'
          : 'string';
  if (schema.type === 'array') expect(schema.items?.type).toBe('string');
  if (schema.type === 'integer') expect(schema.format).toBe('int32');
  return {
    name: raw.name,
    in: raw.in as SpecParameter['in'],
    required: raw.required === true,
    type,
    ...(schema.pattern !== undefined ? { pattern: schema.pattern } : {}),
    ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
    ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
    ...(schema.default !== undefined ? { default: schema.default } : {}),
  };
}

describe('the REST operation table matches the spec files', () => {
  for (const table of SPEC_TABLES) {
    it.skipIf(!existsSync(join(dir, table.source.localFile)))(
      `${table.version}: ${table.source.repository} ${table.source.path}`,
      () => {
        const spec = JSON.parse(readFileSync(join(dir, table.source.localFile), 'utf8'));
        const shared: Record<string, RawParameter> = spec.parameters ?? spec.components?.parameters ?? {};
        const found: string[] = [];
        for (const [path, methods] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
          for (const [method, value] of Object.entries(methods)) {
            if (method === 'parameters') continue;
            const op = value as {
              operationId: string;
              parameters?: RawParameter[];
              requestBody?: unknown;
              responses: Record<string, unknown>;
            };
            const where = `${table.version} ${method.toUpperCase()} ${path}`;
            found.push(op.operationId);
            const row = table.operations.find((o) => o.operationId === op.operationId);
            expect(row, `${where}: ${op.operationId} is missing from the table`).toBeDefined();
            if (!row) continue;
            expect(`${row.method} ${row.path}`, where).toBe(`${method.toUpperCase()} ${path}`);
            const parameters = (op.parameters ?? []).map((p) =>
              normalise(p.$ref ? (shared[p.$ref.split('/').at(-1) as string] as RawParameter) : p),
            );
            if (op.requestBody)
              parameters.push({ name: 'body', in: 'body', required: true, type: 'PayloadMessage' });
            expect(row.parameters, where).toEqual(parameters);
            const codes = Object.keys(op.responses);
            expect(row.success, where).toEqual(codes.filter((c) => c.startsWith('2')).map(Number));
            expect(row.notFound.kind === 'listed', `${where}: 404 listed`).toBe(codes.includes('404'));
            if (row.notFound.kind === 'default') expect(codes, where).toContain('default');
          }
        }
        expect(found.sort()).toEqual(table.operations.map((o) => o.operationId).sort());
      },
    );
  }
});

describe('the REST operation table', () => {
  it('names every source by repository, path and commit', () => {
    for (const table of SPEC_TABLES) {
      expect(table.source.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(table.source.repository).toMatch(/^Azure\//);
    }
  });
});
