import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import type { Request } from "./protocol.js";
import { runPreflight } from "./preflight.js";

export type Progress = (step: string, message: string, percent?: number) => void;
type Handler<C extends Request["command"]> = (req: Extract<Request, { command: C }>, progress: Progress) => Promise<unknown>;

const version: Handler<"version"> = async () => {
  const manifest = parse(await readFile(new URL("../blueprint.yaml", import.meta.url), "utf8")) as { version: string };
  return { version: manifest.version, node: process.versions.node };
};

const doctor: Handler<"doctor"> = async (req, progress) => {
  const checks = await runPreflight(
    { stateDir: req.stateDir, dockerHost: req.dockerHost, ports: req.ports },
    (c) => progress("doctor", `${c.name}: ${c.status}`),
  );
  return { checks };
};

export const handlers: { [C in Request["command"]]: Handler<C> } = {
  version,
  doctor,
  "policy.check": async () => {
    throw new Error("policy.check not wired yet");
  },
  "policy.presets": async () => {
    throw new Error("policy.presets not wired yet");
  },
};
