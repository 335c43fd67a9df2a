import { describe, expect, it } from 'vitest';
import { at, deployment, Scope, UNKNOWN } from './bicep-eval.js';
import { readBicep } from './bicep-model.js';

const FILE = [
  "param mode string = 'a'",
  'param flag bool = false',
  'param tags object = {}',
  "var merged = union(tags, { 'azd-env-name': 'dev' })",
  "var pick = flag && mode == 'a' ? 'yes' : 'no'",
  `var name = 'x-\${mode}-\${uniqueString(mode)}'`,
  `var issuer = '\${environment().authentication.loginEndpoint}\${tenant().tenantId}/v2.0'`,
  "var table = {\n  a: {\n    zone: 'za'\n  }\n}",
  'var row = table[mode]',
  "resource r 'Microsoft.Storage/storageAccounts@2023-05-01' = if (flag) {\n  name: name\n  properties: {\n    publicNetworkAccess: flag ? 'Disabled' : 'Enabled'\n  }\n}",
  "module m './m.bicep' = if (!flag) {\n  name: 'm'\n}",
  "var fromModule = m.?outputs.value ?? 'fallback'",
].join('\n');

describe('the Bicep evaluator', async () => {
  const file = await readBicep(`${FILE}\n`, 'test.bicep');

  it('evaluates parameters, variables, operators and the functions the templates use', () => {
    const scope = new Scope(file, { flag: true, tags: { cost: '1', 'azd-env-name': 'other' } });
    expect(scope.lookup('merged')).toEqual({ cost: '1', 'azd-env-name': 'dev' });
    expect(scope.lookup('pick')).toBe('yes');
    expect(new Scope(file, {}).lookup('pick')).toBe('no');
    expect(scope.lookup('issuer')).toBe(
      'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/v2.0',
    );
    expect(scope.lookup('row')).toEqual({ zone: 'za' });
    // What only Azure knows stays visible as a placeholder, not as a made-up value.
    expect(scope.lookup('name')).toBe('x-a-⟨uniqueString(mode)⟩');
  });

  it('reads a module that is not deployed as null, so `.?` and `??` fall back', () => {
    expect(new Scope(file, { flag: true }).lookup('fromModule')).toBe('fallback');
    expect(new Scope(file, { flag: false }).lookup('fromModule')).toBe(UNKNOWN);
  });

  it('deploys a conditional resource only when its condition holds, with its body evaluated', () => {
    const on = deployment(file, new Map([['./m.bicep', file]]), { flag: true });
    expect(on.resources.map((r) => at(r.body, 'properties', 'publicNetworkAccess'))).toEqual(['Disabled']);
    const off = deployment(file, new Map([['./m.bicep', file]]), { flag: false });
    expect(off.resources.filter((r) => r.module === 'main')).toEqual([]);
  });

  it('refuses an expression it cannot read instead of guessing', () => {
    expect(() => new Scope(file, {}).expression('a ~ b')).toThrow(/cannot read/);
  });
});
