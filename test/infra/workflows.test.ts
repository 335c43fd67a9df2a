import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { formatLintResult, lintWorkflow } from './actionlint.js';

const WORKFLOWS_DIR = '.github/workflows';

async function workflow(name: string): Promise<string> {
  return readFile(`${WORKFLOWS_DIR}/${name}`, 'utf8');
}

describe('GitHub Actions workflows (actionlint, offline)', () => {
  it('pass actionlint', async () => {
    const files = (await readdir(WORKFLOWS_DIR)).filter((name) => /\.ya?ml$/.test(name)).sort();
    expect(files).toEqual(['azure-dev.yml', 'ci.yml']);
    for (const file of files) {
      const findings = await lintWorkflow(await workflow(file), `${WORKFLOWS_DIR}/${file}`);
      expect(findings.map(formatLintResult)).toEqual([]);
    }
  });

  it('fails a copy of ci.yml whose runs-on names an unknown runner, at that line', async () => {
    const source = await workflow('ci.yml');
    const broken = source.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-lates');
    const line = broken.split('\n').findIndex((text) => text.includes('ubuntu-lates')) + 1;
    const findings = await lintWorkflow(broken, 'ci.yml');
    expect(findings).toEqual([expect.objectContaining({ kind: 'runner-label', line })]);
    expect(formatLintResult(findings[0]!)).toMatch(/label "ubuntu-lates" is unknown/);
  });

  it('fails a copy of azure-dev.yml with an expression that uses an undefined context', async () => {
    const source = await workflow('azure-dev.yml');
    const broken = source.replace(`\${{ vars.AZURE_TENANT_ID }}`, `\${{ var.AZURE_TENANT_ID }}`);
    const findings = await lintWorkflow(broken, 'azure-dev.yml');
    expect(findings).toEqual([expect.objectContaining({ kind: 'expression' })]);
    expect(findings[0]?.message).toMatch(/undefined variable "var"/);
  });

  it('fails a workflow with a malformed expression', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      `      - run: echo \${{ github.sha ==  }}`,
      '',
    ].join('\n');
    const findings = await lintWorkflow(broken, 'bad.yml');
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ line: 6, kind: 'expression' });
  });

  it('accepts only the `vars` context among the findings it ignores', async () => {
    const source = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    env:',
      `      A: \${{ vars.A }}`,
      `      B: \${{ varz.B }}`,
      '    steps:',
      '      - run: echo "$A $B"',
      '',
    ].join('\n');
    const findings = await lintWorkflow(source, 'vars.yml');
    expect(findings.map((finding) => finding.line)).toEqual([7]);
  });
});

describe('ci.yml', () => {
  it('runs on every push and pull request', async () => {
    const source = await workflow('ci.yml');
    expect(source).toMatch(/^on:\n {2}push:\n {2}pull_request:\n/m);
  });

  it('lints, builds and runs the unit, integration and browser tests on Node 22 and 24 (Node 20 is past end of life)', async () => {
    const source = await workflow('ci.yml');
    const runs = [...source.matchAll(/^\s+(?:- )?run: (.+)$/gm)].map((match) => match[1]);
    expect(source).toMatch(/^ {8}node: \[22, 24\]$/m);
    expect(source).toContain(`container: node:\${{ matrix.node }}-bookworm`);
    expect(source).toContain(`node-version: \${{ matrix.node }}`);
    expect(runs).toEqual(
      expect.arrayContaining([
        'npm ci',
        'npm run lint',
        'npm run build',
        'npm test',
        'apt-get update && apt-get install -y --no-install-recommends chromium',
        'npm run test:e2e',
      ]),
    );
    const order = ['npm ci', 'npm run lint', 'npm run build', 'npm test', 'npm run test:e2e'].map((step) =>
      runs.indexOf(step),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('builds and lints infra/main.bicep with the Azure CLI', async () => {
    const source = await workflow('ci.yml');
    expect(source).toContain('az bicep build --file infra/main.bicep');
    expect(source).toContain('az bicep lint --file infra/main.bicep');
  });
});

describe('azure-dev.yml', () => {
  it('builds with the Node version Azure runs (22)', async () => {
    expect(await workflow('azure-dev.yml')).toMatch(/node-version: 22\b/);
  });

  it('runs by hand and on push to main', async () => {
    const source = await workflow('azure-dev.yml');
    expect(source).toMatch(/^on:\n {2}workflow_dispatch:\n {2}push:\n {4}branches:\n {6}- main\n/m);
  });

  it('logs in to Azure with OIDC federated credentials and provisions then deploys without prompts', async () => {
    const source = await workflow('azure-dev.yml');
    expect(source).toMatch(/^permissions:\n {2}id-token: write\n/m);
    expect(source).toMatch(/uses: Azure\/setup-azd@v\d+\n/);
    expect(source).toMatch(
      /azd auth login\s+--client-id "\$AZURE_CLIENT_ID"\s+--federated-credential-provider github\s+--tenant-id "\$AZURE_TENANT_ID"/,
    );
    expect(source.indexOf('azd provision --no-prompt')).toBeGreaterThan(0);
    expect(source.indexOf('azd deploy --no-prompt')).toBeGreaterThan(
      source.indexOf('azd provision --no-prompt'),
    );
    for (const name of [
      'AZURE_CLIENT_ID',
      'AZURE_TENANT_ID',
      'AZURE_SUBSCRIPTION_ID',
      'AZURE_ENV_NAME',
      'AZURE_LOCATION',
    ]) {
      expect(source).toContain(`${name}: \${{ vars.${name} }}`);
    }
  });
});

describe('both workflows', () => {
  it('pin every action to a major version', async () => {
    for (const file of ['ci.yml', 'azure-dev.yml']) {
      const uses = [...(await workflow(file)).matchAll(/uses: (\S+)/g)].map((match) => match[1]);
      expect(uses.length).toBeGreaterThan(0);
      for (const action of uses) expect(action, `${file}: ${action}`).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
    }
  });
});
