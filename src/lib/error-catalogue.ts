/**
 * What the error catalogues of the project share: an entry with the HTTP status of the rejection and a message
 * that says what to fix, and the error that carries a catalogued code (docs/architecture.md, "Errors").
 */

/** One entry of a catalogue of rejections. */
export interface ErrorSpec {
  readonly status: number;
  /** What went wrong and what to fix. */
  readonly message: string;
}

/**
 * A catalogued rejection: the entry's message, followed by `detail` in parentheses when there is one (what was
 * found, never a secret), and the entry's status.
 */
export class CataloguedError<Code extends string> extends Error {
  readonly code: Code;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(catalogue: Readonly<Record<Code, ErrorSpec>>, code: Code, detail?: string) {
    const spec = catalogue[code];
    super(detail ? `${spec.message} (${detail})` : spec.message);
    this.code = code;
    this.status = spec.status;
    this.detail = detail;
  }
}
