import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkBicepFiles,
  findSyntaxProblems,
  formatProblem,
  listBicepFiles,
  readBicep,
  separateExtensions,
} from './bicep-model.js';

describe('Bicep syntax (tree-sitter-bicep, offline)', () => {
  it('parses every .bicep file under infra/ without ERROR or MISSING nodes', async () => {
    const files = await listBicepFiles('infra');
    expect(files).toEqual(
      expect.arrayContaining([
        'infra/main.bicep',
        'infra/modules/entra-app.bicep',
        'infra/modules/function-app.bicep',
        'infra/modules/identity.bicep',
        'infra/modules/monitoring.bicep',
        'infra/modules/roles.bicep',
        'infra/modules/signalr.bicep',
        'infra/modules/storage.bicep',
      ]),
    );
    const problems = await checkBicepFiles(files);
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('reads `extension` declarations, which the bundled grammar (tree-sitter-bicep 1.1.0) predates', async () => {
    const source = [
      'extension microsoftGraphV1', // 1
      "extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0' as graph", // 2
      "resource app 'Microsoft.Graph/applications@v1.0' = {", // 3
      "  uniqueName: 'chat'", // 4
      '}', // 5
    ].join('\n');
    const { parsable, extensions } = separateExtensions(source);
    expect(extensions).toEqual([
      { reference: 'microsoftGraphV1', line: 1 },
      {
        reference: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0',
        alias: 'graph',
        line: 2,
      },
    ]);
    expect(parsable.split('\n').map((line) => line.length)).toEqual(
      source.split('\n').map((line) => line.length),
    );
    expect(await findSyntaxProblems(source, 'graph.bicep')).toEqual([]);
    const file = await readBicep(source, 'graph.bicep');
    expect(file.resources.map((r) => [r.type, r.apiVersion, r.line])).toEqual([
      ['Microsoft.Graph/applications', 'v1.0', 3],
    ]);
  });

  it('still reports a malformed `extension` line (a typo, or a form it does not know) at that line', async () => {
    for (const line of [
      'extention microsoftGraphV1',
      'extension microsoftGraphV1 as',
      "extension microsoftGraphV1 with { foo: 'bar' }",
    ]) {
      const problems = await findSyntaxProblems(`${line}\nparam a string\n`, 'bad.bicep');
      expect(problems.length, line).toBeGreaterThan(0);
      expect(problems[0]?.line, line).toBe(1);
    }
  });

  it('reports an unclosed resource body at the declaration, with the line where the unparsable text ends', async () => {
    const source = [
      "resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {", // 1
      "  name: 'stchat'", // 2
      '  properties: {', // 3
      '    allowSharedKeyAccess: false', // 4
      '  }', // 5
      '', // 6: the resource's `}` is missing
      'output name string = account.name', // 7
    ].join('\n');
    const problems = await findSyntaxProblems(source, 'broken.bicep');
    expect(problems.map(formatProblem)).toEqual([
      "broken.bicep:1:1: syntax error at `resource account 'Microsoft.Storage/stor` (the unparsable text runs to line 7: an unclosed bracket?)",
    ]);
  });

  it('reports a missing token as MISSING at the place it is expected', async () => {
    const source = "resource r 'Microsoft.Web/sites@2024-04-01' = {\n  name: 'x'\n";
    const problems = await findSyntaxProblems(source, 'missing.bicep');
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^missing\.bicep:2:12: missing `\}`/),
    ]);
  });

  it('reports a stray token with its line and column', async () => {
    const source = "param sku string = 'Free_F1'\nparam capacity int = 1 2\n";
    const [first] = await findSyntaxProblems(source, 'stray.bicep');
    expect(first && formatProblem(first)).toMatch(/^stray\.bicep:2:\d+: /);
  });

  describe('on a broken copy of the real infra/ tree', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'infra-broken-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fails when one brace of main.bicep is deleted, naming that file', async () => {
      const main = await readFile('infra/main.bicep', 'utf8');
      const lines = main.split('\n');
      // Drop the first top-level closing brace (it ends `var tags = {`): what follows no longer parses.
      const closing = lines.indexOf('}');
      expect(closing).toBeGreaterThan(0);
      const broken = [...lines.slice(0, closing), ...lines.slice(closing + 1)].join('\n');
      const brokenFile = join(dir, 'main.bicep');
      await writeFile(brokenFile, broken);
      const problems = await checkBicepFiles(['infra/modules/storage.bicep', brokenFile]);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((problem) => problem.file === brokenFile)).toBe(true);
      // The brace closed `var tags = {`, so the parser first fails on the declaration that follows it.
      const nextDeclaration =
        broken.split('\n').findIndex((line, index) => index >= closing && line.trim() !== '') + 1;
      expect(problems[0]).toMatchObject({ file: brokenFile, line: nextDeclaration });
      expect(formatProblem(problems[0]!).startsWith(`${brokenFile}:${nextDeclaration}:`)).toBe(true);
    });
  });
});
