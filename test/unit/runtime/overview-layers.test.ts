// The status screen's layer lines: each layer is OK only when what was read inside proves it.
import { describe, expect, it } from "vitest";
import { layerChecks } from "../../../blueprint/runtime/overview.js";
import type { SandboxStatus } from "../../../blueprint/sandbox/status.js";

const layer = { pid: 7, argv: ["sleep", "infinity"], uid: 1000, gid: 1000, seccomp: 2, seccompFilters: 2, noNewPrivs: 1, capEff: "0000000000000000", capPrm: "0000000000000000", capBnd: "0000000000000000" };
function status(over: { workload?: Partial<typeof layer>; write?: string; abi?: number; rootOptions?: string; socket?: boolean } = {}): SandboxStatus {
  return {
    name: "box",
    egress: "served by the host daemon",
    inside: {
      supervisor: null,
      workload: { ...layer, ...over.workload },
      self: layer,
      landlock: { abi: over.abi ?? 7, probe: "/etc/probe", write: over.write ?? "EACCES" },
      mounts: [{ target: "/", type: "overlay", options: over.rootOptions ?? "ro,relatime" }],
      proxySocket: over.socket === false ? { present: false, error: "ENOENT" } : { present: true, mode: "0600", uid: 0 },
      environ: { supervisor: "unreadable", forwarder: "unreadable" },
    },
  } as unknown as SandboxStatus;
}

describe("layerChecks", () => {
  it("all three OK for a sandbox that proves each", () => {
    const c = layerChecks(status());
    expect(c).toMatchObject({ network: { ok: true }, filesystem: { ok: true }, process: { ok: true } });
    expect(c?.process.detail).toBe("uid 1000, seccomp (2 filters), no_new_privs, no capabilities");
  });
  it("filesystem not in force when a write was not refused, Landlock is missing, or the root is writable", () => {
    expect(layerChecks(status({ write: "OK" }))?.filesystem.ok).toBe(false);
    expect(layerChecks(status({ abi: 0 }))?.filesystem.ok).toBe(false);
    expect(layerChecks(status({ rootOptions: "rw,relatime" }))?.filesystem).toMatchObject({ ok: false, detail: expect.stringContaining("WRITABLE") });
  });
  it("process not in force for root, no seccomp, no no_new_privs, or any capability", () => {
    for (const w of [{ uid: 0 }, { seccomp: 0 }, { noNewPrivs: 0 }, { capEff: "0000000000000400" }]) {
      expect(layerChecks(status({ workload: w }))?.process.ok, JSON.stringify(w)).toBe(false);
    }
  });
  it("network not in force without the proxy socket", () => {
    expect(layerChecks(status({ socket: false }))?.network).toMatchObject({ ok: false, detail: expect.stringContaining("ENOENT") });
  });
});
