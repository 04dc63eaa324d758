/**
 * The one error type of DPN. Every failure a user can cause carries a stable `code` that
 * programs match on, a message that says what happened, and a hint that says what to do.
 * Codes never change meaning once released; add new ones instead.
 */
export interface DpnErrorOptions {
  /** What the user should do about it. Appended to the message. */
  readonly hint?: string;
  /** Machine-readable context (offending value, limit). Bigints are rendered as strings in JSON. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class DpnError extends Error {
  override readonly name = "DpnError";
  readonly code: string;
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: DpnErrorOptions = {}) {
    super(options.hint === undefined ? message : `${message} ${options.hint}`, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = message;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The shape the HTTP API and `--json` output use. */
  toJSON(): { code: string; message: string; hint?: string; details: Record<string, unknown> } {
    const details: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.details)) {
      details[key] = typeof value === "bigint" ? value.toString() : value;
    }
    return this.hint === undefined
      ? { code: this.code, message: this.shortMessage, details }
      : { code: this.code, message: this.shortMessage, hint: this.hint, details };
  }
}

export function isDpnError(value: unknown, code?: string): value is DpnError {
  return value instanceof DpnError && (code === undefined || value.code === code);
}
