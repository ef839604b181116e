// The sandbox's egress forwarder (blueprint/supervisor/egress-forwarder.c) built for the host, for
// tests that run the supervisor outside a container. Same source as the image's, compiled once
// per source version.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { compileStaticProbe } from "./docker-probe.js";
import { repoRoot } from "./node24.js";

export async function hostForwarder(): Promise<string> {
  return compileStaticProbe("egress-forwarder", await readFile(path.join(repoRoot, "blueprint/supervisor/egress-forwarder.c"), "utf8"));
}
