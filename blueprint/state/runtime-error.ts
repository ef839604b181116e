/** A failure the runtime explains to the operator: a stable code, a message, and what to do next. */
export class RuntimeError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: readonly string[];
  constructor(code: string, message: string, hint?: string, details: readonly string[] = []) {
    super(message);
    this.name = "RuntimeError";
    this.code = code;
    this.hint = hint;
    this.details = details;
  }
}
