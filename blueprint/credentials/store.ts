// The host's credential store: `<stateDir>/credentials.json`, 0600 in a 0700 directory, written
// atomically, validated on every read. The daemon reads it on each use but parses it only when
// the file changed (inode, size, mtime), so `credentials add` takes effect at once without a
// restart, and a proxied request costs one synchronous stat (a few µs; an async one is a round
// trip through libuv's thread pool on every request's path).
import { createHash, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { RuntimeError } from "../state/runtime-error.js";
import { StateFile } from "../state/state-file.js";
import { KINDS } from "./kinds.js";
import { derivePlaceholder } from "./placeholders.js";
import {
  AddCredentialInputSchema,
  CREDENTIAL_KINDS,
  type AddCredentialInput,
  type Binding,
  type CredentialKind,
  type CredentialsFile,
  CredentialsFileSchema,
  type CredentialSummary,
  type StoredCredential,
} from "./schema.js";
import { buildPlaceholderIndex, type PlaceholderIndex } from "./substitute.js";

export function credentialsFile(stateDir: string): string {
  return path.join(stateDir, "credentials.json");
}

const RECOVERY = "add the credentials again with `openclaw nemoclaw credentials add <name> --from-env VAR`";

function effectiveBindings(c: StoredCredential): Binding[] {
  return c.bindings ?? KINDS[c.kind].defaultBindings;
}

function summarize(c: StoredCredential): CredentialSummary {
  return {
    name: c.name,
    kind: c.kind,
    bindings: effectiveBindings(c),
    fingerprint: createHash("sha256").update(c.secret).digest("hex").slice(0, 8),
    addedAt: c.addedAt,
  };
}

/** zod's first issue as one line a person can act on. */
function describeInputError(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const issue = issues[0];
  const where = issue?.path.map(String).join(".") ?? "";
  return `${where === "" ? "" : `${where}: `}${issue?.message ?? "invalid"}`;
}

export class CredentialStore {
  readonly file: string;
  readonly #state: StateFile<CredentialsFile>;
  #cache: { key: string; data: CredentialsFile } | undefined;
  /** Each sandbox's placeholder index, per loaded file content (a new read makes new ones). */
  #indexes = new WeakMap<CredentialsFile, Map<string, PlaceholderIndex>>();
  #writes: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.file = credentialsFile(stateDir);
    this.#state = new StateFile(this.file, CredentialsFileSchema);
  }

  /**
   * What identifies the file's current content: inode, size and mtime; "missing" when there is no
   * file; "unreadable" when the stat itself fails (the read then says why, and nobody gets an
   * empty store instead of an error).
   */
  #fileKey(): string {
    try {
      const s = statSync(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (e) {
      // Not throwIfNoEntry: it also hides ENOTDIR (a file where the state dir should be), which
      // is an error to report, as the read does, not an empty store.
      return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
    }
  }

  async #load(key = this.#fileKey()): Promise<CredentialsFile> {
    if (this.#cache?.key === key) return this.#cache.data;
    const data = await this.#state.read(() => ({ version: 1, placeholderKey: randomBytes(32).toString("hex"), credentials: [] }), RECOVERY);
    // A missing file is not cached (its fresh placeholder key must be written before it is used),
    // nor one whose stat failed (that key says nothing about its content).
    if (key !== "missing" && key !== "unreadable") this.#cache = { key, data };
    return data;
  }

  /** Read-modify-write, one at a time within this process. */
  async #update<T>(change: (file: CredentialsFile) => T): Promise<T> {
    const run = this.#writes.then(async () => {
      const current = await this.#load();
      const next: CredentialsFile = { ...current, credentials: [...current.credentials] };
      const result = change(next);
      await this.#state.write(next);
      this.#cache = undefined;
      return result;
    });
    this.#writes = run.catch(() => {});
    return run;
  }

  /** Adds or replaces (key rotation) a credential. Bad input → RuntimeError saying what to fix. */
  async add(input: AddCredentialInput): Promise<{ credential: CredentialSummary; replaced: boolean }> {
    const parsed = AddCredentialInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new RuntimeError("invalid-credential", `cannot add the credential: ${describeInputError(parsed.error.issues)}`, "check the name, kind and bindings");
    }
    const { name, secret, bindings, placeholderPrefix } = parsed.data;
    const kind = parsed.data.kind ?? ((CREDENTIAL_KINDS as readonly string[]).includes(name) ? (name as CredentialKind) : undefined);
    if (kind === undefined) {
      throw new RuntimeError("invalid-credential", `"${name}" is not a credential kind, so say which kind it is`, `pass --kind (one of ${CREDENTIAL_KINDS.join(", ")})`);
    }
    const stored: StoredCredential = {
      name,
      kind,
      secret,
      ...(bindings === undefined ? {} : { bindings }),
      ...(placeholderPrefix === undefined ? {} : { placeholderPrefix }),
      addedAt: new Date().toISOString(),
    };
    return this.#update((file) => {
      const at = file.credentials.findIndex((c) => c.name === name);
      if (at === -1) file.credentials.push(stored);
      else file.credentials[at] = stored;
      return { credential: summarize(stored), replaced: at !== -1 };
    });
  }

  async list(): Promise<CredentialSummary[]> {
    // No file, no credentials: nothing to read, and no placeholder key made just to list none.
    const key = this.#fileKey();
    return key === "missing" ? [] : (await this.#load(key)).credentials.map(summarize);
  }

  async remove(name: string): Promise<void> {
    await this.#update((file) => {
      const at = file.credentials.findIndex((c) => c.name === name);
      if (at === -1) throw this.#notFound(name, file);
      file.credentials.splice(at, 1);
    });
  }

  /** The stored credential with its secret, for the inference router and the egress proxy only. */
  async get(name: string): Promise<StoredCredential | undefined> {
    return (await this.#load()).credentials.find((c) => c.name === name);
  }

  /** Like get, but a missing credential is an error that lists what is stored. */
  async require(name: string): Promise<StoredCredential> {
    const file = await this.#load();
    const found = file.credentials.find((c) => c.name === name);
    if (found === undefined) throw this.#notFound(name, file);
    return found;
  }

  /** The placeholder `sandbox` sees for credential `name` (stable; unique per sandbox). */
  async placeholder(sandbox: string, name: string): Promise<string> {
    const file = await this.#ensureKey();
    const c = file.credentials.find((x) => x.name === name);
    if (c === undefined) throw this.#notFound(name, file);
    return derivePlaceholder(file.placeholderKey, sandbox, c);
  }

  /** Every credential's placeholder for one sandbox, for the egress proxy's substitution. */
  async placeholderIndex(sandbox: string): Promise<PlaceholderIndex> {
    // No file, no credentials: no placeholders, and no credentials.json written just to derive none.
    const key = this.#fileKey();
    if (key === "missing") return buildPlaceholderIndex(sandbox, []);
    const file = await this.#ensureKey(key);
    let built = this.#indexes.get(file);
    if (built === undefined) this.#indexes.set(file, (built = new Map()));
    let index = built.get(sandbox);
    if (index === undefined) {
      index = buildPlaceholderIndex(
        sandbox,
        file.credentials.map((c) => ({ name: c.name, placeholder: derivePlaceholder(file.placeholderKey, sandbox, c), secret: c.secret, bindings: effectiveBindings(c) })),
      );
      built.set(sandbox, index);
    }
    return index;
  }

  /** Placeholders need the key on disk first: one derived from a key that was never saved would change. */
  async #ensureKey(key = this.#fileKey()): Promise<CredentialsFile> {
    const file = await this.#load(key);
    if (this.#cache !== undefined) return file;
    return this.#update(() => {}).then(() => this.#load());
  }

  #notFound(name: string, file: CredentialsFile): RuntimeError {
    const names = file.credentials.map((c) => c.name);
    return new RuntimeError(
      "credential-not-found",
      `no credential named "${name}" is stored${names.length === 0 ? "" : ` (stored: ${names.join(", ")})`}`,
      `add it with \`openclaw nemoclaw credentials add ${name} --from-env VAR\``,
    );
  }
}
