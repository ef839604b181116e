import { X509Certificate } from "node:crypto";
import { mkdtemp, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { describe, expect, it } from "vitest";
import { loadOrCreateSandboxCa } from "../../../blueprint/ca/sandbox-ca.js";
import { LeafCache } from "../../../blueprint/gateway/leaf-cache.js";

describe("sandbox CA", () => {
  it("keeps the key 0600 on the host, exports only the certificate, and reloads the same CA", async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), "nemoclaw-ca-")), "ca");
    const ca = await loadOrCreateSandboxCa(dir, "demo");
    expect((await stat(ca.keyFile)).mode & 0o777).toBe(0o600);
    expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(ca.certPem).not.toMatch(/PRIVATE KEY/);
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toMatch(/nemoclaw sandbox CA \(demo\)/);
    const again = await loadOrCreateSandboxCa(dir, "demo");
    expect(again.certPem).toBe(ca.certPem);
  });

  it("mints leaves per host that verify against the CA, and caches them", async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), "nemoclaw-ca-")), "ca");
    const ca = await loadOrCreateSandboxCa(dir, "demo");
    const leaves = new LeafCache(ca, { max: 2 });
    const server = tls.createServer({ SNICallback: (name, cb) => void leaves.context(name).then((c) => cb(null, c)) }, (s) => s.end("hi"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const connect = (servername: string) =>
      new Promise<tls.PeerCertificate>((resolve, reject) => {
        const s = tls.connect({ port, host: "127.0.0.1", servername, ca: ca.certPem }, () => {
          resolve(s.getPeerCertificate());
          s.destroy();
        });
        s.on("error", reject);
      });
    expect((await connect("api.example.com")).subjectaltname).toBe("DNS:api.example.com");
    const first = await leaves.context("api.example.com");
    expect(await leaves.context("api.example.com")).toBe(first);
    await connect("b.example.com");
    await connect("c.example.com");
    expect(leaves.size).toBe(2);
    server.close();
  });
});
