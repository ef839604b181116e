// `sandbox.carryover`: the operator's OpenClaw state carried into a running gateway sandbox
// (issue #10). The runtime does it because it holds what the transform needs and the plugin may
// not touch: the credential store (channel tokens become host credentials; the sandbox gets
// their placeholders), the inference route (which model choices the route can serve) and the
// driver (writes inside, as the workload).
//
//   read ~/.openclaw/openclaw.json (JSON5) → carryOver() finds the channel tokens
//   → each stored as a credential (only when new or changed) → its placeholder for this sandbox
//   → carryOver() again with them → merged into the sandbox's config inside (unchanged: no write)
//   → the workspace folders copied into /sandbox/workspace (only files that differ)
// The operator's file is only read.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import JSON5 from "json5";
import { CredentialStore } from "../credentials/store.js";
import { ROUTER_API_KEY } from "../inference/openclaw-config.js";
import { getProvider } from "../inference/providers/index.js";
import { RouteStore } from "../inference/route.js";
import { carryOver, sensitiveValues, type CarryOptions } from "../sandbox/carry-over.js";
import { writeCarriedConfig } from "../sandbox/carry-over-config.js";
import type { SandboxDriver } from "../sandbox/driver.js";
import { GATEWAY_CONFIG } from "../sandbox/gateway-inside.js";
import { collectWorkspace, writeWorkspace } from "../sandbox/workspace-copy.js";
import { RuntimeError } from "../state/runtime-error.js";
import { inferenceCall } from "./inference-call.js";
import type { CarryOverResult } from "./protocol.js";

export interface CarryOverRequest {
  name: string;
  configFile: string;
  home: string;
  openclawStateDir: string;
}


/** The operator's OpenClaw config (JSON5), read only; undefined when there is no file. */
export async function readOperatorConfig(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const parsed = JSON5.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch (e) {
    throw new RuntimeError("operator-config", `your OpenClaw config ${file} does not parse: ${(e as Error).message}`, "fix it (`openclaw config validate`), then run onboard again");
  }
}

export async function carryOverInto(driver: SandboxDriver, req: CarryOverRequest, progress: (message: string) => void): Promise<CarryOverResult> {
  const record = await driver.registry.get(req.name);
  if (!record.gateway || !record.openclaw) {
    throw new RuntimeError("not-a-gateway-sandbox", `sandbox ${req.name} does not run OpenClaw's gateway, so there is no OpenClaw state to carry into it`, "onboard makes gateway sandboxes: `openclaw nemoclaw onboard --name <name>`");
  }
  const read = await readOperatorConfig(req.configFile);
  const operator = read ?? {};
  const credentialStore = new CredentialStore(driver.stateDir);
  const route = await new RouteStore(driver.stateDir, credentialStore).get(req.name);
  const options: CarryOptions = {
    sandbox: req.name,
    home: req.home,
    openclawStateDir: req.openclawStateDir,
    routerApiKey: ROUTER_API_KEY,
    ...(route ? { route: { shape: getProvider(route.provider).shape, models: [route.model, ...(route.options.allowedModels ?? [])] } } : {}),
  };

  // Channel tokens → host credentials (through the daemon when one runs: it owns the writes).
  const found = carryOver(operator, options).secrets;
  const credentials: CarryOverResult["credentials"] = [];
  if (found.length > 0) {
    progress(`storing ${found.length} channel token${found.length === 1 ? "" : "s"} on the host`);
    const { credentials: stored } = (await inferenceCall(driver.stateDir, "credentials/list", {})) as { credentials: Array<{ name: string; fingerprint: string }> };
    for (const s of found) {
      const fingerprint = createHash("sha256").update(s.secret).digest("hex").slice(0, 8);
      const before = stored.find((c) => c.name === s.name);
      if (before?.fingerprint !== fingerprint) {
        const { name, kind, secret, placeholderPrefix, bindings } = s;
        await inferenceCall(driver.stateDir, "credentials/add", { name, kind, secret, ...(placeholderPrefix ? { placeholderPrefix } : {}), ...(bindings ? { bindings } : {}) });
      }
      credentials.push({ name: s.name, where: s.where, status: before === undefined ? "added" : before.fingerprint === fingerprint ? "unchanged" : "updated" });
    }
  }
  const placeholders = new Map<string, string>();
  for (const s of found) placeholders.set(s.name, await credentialStore.placeholder(req.name, s.name));
  const carried = carryOver(operator, { ...options, placeholders });

  const exec = (command: readonly string[], io: Parameters<SandboxDriver["exec"]>[2]) => driver.exec(req.name, command, io);
  progress("writing agents, channels and skills settings into the sandbox's OpenClaw config");
  const changed = await writeCarriedConfig(exec, { name: req.name, openclawEntry: record.openclaw.entry, configPath: GATEWAY_CONFIG }, carried.parts);

  const sensitive = sensitiveValues(operator);
  const workspaces: CarryOverResult["workspaces"] = [];
  for (const w of carried.workspaces) {
    const collected = await collectWorkspace(w.from, sensitive);
    let counts = { written: 0, unchanged: 0 };
    if (collected.found && collected.files.length > 0) {
      progress(`copying ${collected.files.length} workspace files from ${w.from} to ${w.to}`);
      counts = await writeWorkspace(exec, { name: req.name, root: w.to }, collected.files);
    }
    workspaces.push({ ...w, found: collected.found, files: collected.files.length, ...counts, skills: collected.skills, skipped: collected.skipped });
  }

  return { name: req.name, configFile: req.configFile, configFound: read !== undefined, config: changed ? "updated" : "unchanged", ...carried.report, credentials, workspaces };
}
