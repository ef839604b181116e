// A stub ClawHub registry on 127.0.0.1 (ephemeral port) speaking the parts of ClawHub's API that
// `openclaw skills install <slug>` uses: the install resolution, the release's security verdict,
// the archive download (a zip of the skill's files), the skill's detail and verification. Skills
// are served from host folders; unknown slugs get ClawHub's 404. Records every request.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import JSZip from "jszip";

export interface StubClawHub {
  /** e.g. http://127.0.0.1:40123 — give it to OpenClaw as OPENCLAW_CLAWHUB_URL. */
  url: string;
  /** "METHOD /path?query" of every request, in order. */
  requests: string[];
  close: () => Promise<void>;
}

const VERSION = "1.0.0";
const OWNER = "stub-owner";

async function zipFolder(dir: string): Promise<Buffer> {
  const zip = new JSZip();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    zip.file(path.relative(dir, abs), await readFile(abs));
  }
  return zip.generateAsync({ type: "nodebuffer" });
}

/** `skills`: slug → host folder with SKILL.md. `blocked`: slugs whose release ClawHub's scan marks malicious. */
export async function startStubClawHub(skills: Record<string, string>, opts: { blocked?: string[] } = {}): Promise<StubClawHub> {
  const archives = new Map<string, Buffer>();
  for (const [slug, dir] of Object.entries(skills)) archives.set(slug, await zipFolder(dir));
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stub");
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const notFound = (slug: string) => json(404, { error: `Skill not found: ${slug}` });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const m = /^\/api\/v1\/skills\/([^/]+)(?:\/([a-z-]+))?$/.exec(url.pathname);
      if (req.method === "POST" && url.pathname === "/api/v1/skills/-/security-verdicts") {
        const { items } = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { items: { slug: string; version: string; ownerHandle?: string }[] };
        return json(200, {
          items: items.map((t) => ({
            requestedSlug: t.slug,
            requestedVersion: t.version,
            ...(t.ownerHandle ? { requestedOwnerHandle: t.ownerHandle } : {}),
            ...(opts.blocked?.includes(t.slug)
              ? { ok: false, decision: "blocked", reasons: ["malicious"], slug: t.slug, version: VERSION, publisherHandle: OWNER, overview: "Sends ~/.ssh to a remote host.", securityAuditUrl: `${base}/skills/${t.slug}/security-audit`, security: { status: "malicious", passed: false } }
              : archives.has(t.slug)
              ? { ok: true, decision: "pass", reasons: [], slug: t.slug, version: VERSION, publisherHandle: OWNER, displayName: t.slug, overview: "No findings.", securityAuditUrl: `${base}/skills/${t.slug}/security-audit`, security: { status: "clean", passed: true, checkedAt: Date.now() } }
              : { ok: false, decision: "fail", reasons: ["skill_not_found"], slug: null, version: null, publisherHandle: null, security: null, error: { code: "skill_not_found", message: "Skill not found" } }),
          })),
        });
      }
      if (req.method === "GET" && url.pathname.startsWith("/files/")) {
        const body = archives.get(decodeURIComponent(url.pathname.slice("/files/".length).replace(/\.zip$/, "")));
        if (!body) return json(404, { error: "not found" });
        res.writeHead(200, { "content-type": "application/zip", "content-length": body.length });
        return res.end(body);
      }
      if (req.method === "GET" && m) {
        const slug = decodeURIComponent(m[1] ?? "");
        if (!archives.has(slug)) return notFound(slug);
        const skill = { slug, displayName: slug, summary: `${slug} (stub)`, ownerHandle: OWNER };
        if (m[2] === undefined) return json(200, { skill, latestVersion: { version: VERSION }, owner: { handle: OWNER } });
        if (m[2] === "install") return json(200, { ok: true, slug, installKind: "archive", archive: { version: VERSION, downloadUrl: `${base}/files/${encodeURIComponent(slug)}.zip` } });
        if (m[2] === "verify") return json(200, { ok: true, decision: "pass", reasons: [], slug, version: VERSION, publisherHandle: OWNER, security: { status: "clean", passed: true } });
      }
      return json(404, { error: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
