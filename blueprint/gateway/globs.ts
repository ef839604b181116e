// Glob matching for the three things a policy names with patterns: request paths and binary
// paths (`*` stays inside one `/` segment, `**` crosses them, `\` makes the next character
// literal), host names (`*` inside the first label, `**` as the whole first label for any depth)
// and query values (`*` matches anything).

const compiled = new Map<string, RegExp>();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+^${}()|[\]\\?]/g, "\\$&");
}

function cached(key: string, build: () => RegExp): RegExp {
  let re = compiled.get(key);
  if (re === undefined) {
    re = build();
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

function pathGlobSource(glob: string): string {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    if (glob.startsWith("/**/", i)) {
      out += "/(?:.*/)?";
      i += 4;
    } else if (glob.startsWith("/**", i) && i + 3 === glob.length) {
      out += "(?:/.*)?";
      i += 3;
    } else if (glob.startsWith("**", i)) {
      out += ".*";
      i += 2;
    } else if (glob[i] === "*") {
      out += "[^/]*";
      i += 1;
    } else if (glob[i] === "\\" && i + 1 < glob.length) {
      out += escapeRegExp(glob[i + 1] ?? "");
      i += 2;
    } else {
      out += escapeRegExp(glob[i] ?? "");
      i += 1;
    }
  }
  return out;
}

/**
 * `/repos/*\/*\/hooks/**` style matching: `*` is any run of characters except `/`, `**` any run
 * including `/`, and `/**` at the end also matches nothing (so `/v1/**` matches `/v1`).
 * `caseInsensitive` is for deny rules, where matching more is the safe side.
 */
export function pathMatches(glob: string, path: string, caseInsensitive = false): boolean {
  const flags = caseInsensitive ? "is" : "s";
  return cached(`p${flags}\0${glob}`, () => new RegExp(`^${pathGlobSource(glob)}$`, flags)).test(path);
}

/**
 * The path glob that matches exactly `path`: `*` and `\` escaped with `\`. For globs written
 * from names that came from inside a sandbox (approved executables), where a file may be named `*`.
 */
export function escapeGlob(path: string): string {
  return path.replace(/[\\*]/g, "\\$&");
}

/** Query values: `*` matches any run of characters. */
export function valueMatches(glob: string, value: string): boolean {
  return cached(`v\0${glob}`, () => new RegExp(`^${glob.split("*").map(escapeRegExp).join(".*")}$`, "s")).test(value);
}

/**
 * Host patterns as the policy schema admits them: exact names, a first label containing `*`
 * (one label, never a dot), or `**` as the whole first label (one or more labels). The bare
 * parent domain never matches a wildcard. Both sides are compared lower-case.
 */
export function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (!p.includes("*")) return p === host;
  const dot = p.indexOf(".");
  const first = p.slice(0, dot);
  const rest = p.slice(dot); // ".example.com"
  if (!host.endsWith(rest)) return false;
  const head = host.slice(0, host.length - rest.length);
  if (head.length === 0) return false;
  if (first === "**") return !head.startsWith(".") && !head.endsWith(".") && !head.includes("..");
  if (head.includes(".")) return false;
  return cached(`h\0${first}`, () => new RegExp(`^${first.split("*").map(escapeRegExp).join("[^.]*")}$`)).test(head);
}
