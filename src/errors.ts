/**
 * An error a person can act on: what went wrong, and what to do next.
 * The CLI prints these without a stack trace; anything else is a bug and is reported as one.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly details: readonly string[];
  constructor(message: string, hint?: string, details: readonly string[] = []) {
    super(message);
    this.name = "UserError";
    this.hint = hint;
    this.details = details;
  }
}
