// Which Docker engine the runtime talks to, by DOCKER_HOST's conventions, against a second dockerd
// this file starts on its own socket and data root: the configured URL wins over DOCKER_HOST,
// DOCKER_HOST alone is followed, npipe:// and unreadable TLS material are refused with what to do,
// and a sandbox created there runs on that engine (not the shared one) with its layers in force.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBlueprint } from "../../src/blueprint/run.js";
import { UserError } from "../../src/errors.js";
import { createDockerClient } from "../../blueprint/sandbox/docker-client.js";
import { sandboxContainerName } from "../../blueprint/sandbox/container-spec.js";
import { BASE_IMAGE, dockerClient, ensureSandboxImage } from "../helpers/docker-images.js";
import { createSandboxHarness, type SandboxHarness } from "../helpers/docker-sandbox.js";
import { startOwnDockerd, type OwnDockerd } from "../helpers/own-dockerd.js";

const shared = dockerClient();
let own: OwnDockerd;
let stateDir: string;

beforeAll(async () => {
  const image = await ensureSandboxImage(shared);
  const started = performance.now();
  own = await startOwnDockerd();
  const copying = performance.now();
  await own.copyImages([BASE_IMAGE, image], shared);
  console.log(`own dockerd: answered in ${((copying - started) / 1000).toFixed(1)} s, images copied in ${((performance.now() - copying) / 1000).toFixed(1)} s`);
  stateDir = await mkdtemp(path.join(os.tmpdir(), "nemoclaw-dh-"));
}, 600_000);
afterAll(async () => {
  await own?.dispose();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const doctor = (dockerHost: string | undefined, env: Record<string, string>) =>
  runBlueprint(
    { command: "doctor", stateDir, ...(dockerHost ? { dockerHost } : {}), ports: [] },
    (p) => p.DoctorResultSchema,
    { env },
  ).then((r) => r.checks.find((c) => c.name === "Docker"));

describe("the engine the runtime reaches", () => {
  it("a configured unix:// URL wins over DOCKER_HOST, and DOCKER_HOST alone is followed", async () => {
    const configured = await doctor(own.host, { DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(configured).toMatchObject({ status: "ok" });
    expect(configured?.detail).toContain(own.socket);
    const fromEnv = await doctor(undefined, { DOCKER_HOST: own.host });
    expect(fromEnv).toMatchObject({ status: "ok" });
    expect(fromEnv?.detail).toContain(own.socket);
    // the engine that answered is the private one: its data root is not the shared engine's
    const [mine, theirs] = await Promise.all([createDockerClient(own.host).info(), shared.info()]);
    expect(mine.DockerRootDir).not.toBe(theirs.DockerRootDir);
    expect(mine.DockerRootDir).toContain(path.dirname(own.socket));
  });

  it("refuses npipe:// and a TLS engine whose certificates are missing, saying what to do", async () => {
    const npipe = await doctor("npipe:////./pipe/docker_engine", {});
    expect(npipe).toMatchObject({ status: "fail" });
    expect(npipe?.detail).toMatch(/Windows named pipe/);
    expect(npipe?.fix).toMatch(/WSL 2|tcp:\/\/|ssh:\/\//);
    const tls = await doctor("tcp://127.0.0.1:1", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: path.join(stateDir, "no-certs") });
    expect(tls).toMatchObject({ status: "fail" });
    expect(tls?.detail).toContain(path.join(stateDir, "no-certs", "ca.pem"));
    expect(tls?.fix).toMatch(/DOCKER_CERT_PATH/);
    // a request that needs the engine fails the same way, as an error with a hint, not a stack trace
    const list = await runBlueprint({ command: "sandbox.list", stateDir, dockerHost: "npipe:////./pipe/docker_engine" }, (p) => p.SandboxListResultSchema).catch((e: unknown) => e);
    expect(list).toBeInstanceOf(UserError);
    expect((list as UserError).message).toMatch(/Windows named pipe/);
    expect((list as UserError).message).not.toMatch(/\n\s+at /);
  });
});

describe("a sandbox on the second engine", () => {
  let h: SandboxHarness;
  let name: string;
  beforeAll(async () => {
    h = await createSandboxHarness({ docker: createDockerClient(own.host) });
    name = (await h.create("dh")).name;
  }, 600_000);
  afterAll(async () => h?.dispose());

  it("runs there, not on the shared engine, with every layer in force and egress through the proxy socket", async () => {
    const info = await own.docker.getContainer(sandboxContainerName(name)).inspect();
    expect(info.State.Running).toBe(true);
    await expect(shared.getContainer(sandboxContainerName(name)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const status = await h.driver.status(name);
    expect(status.inside?.workload).toMatchObject({ uid: 1000, seccomp: 2, noNewPrivs: 1, capEff: "0000000000000000" });
    expect(status.inside?.proxySocket.present).toBe(true);
    // the test's daemon refuses every request: a 403 from it proves the path out reaches the host
    const get = `require("http").get({ host: "127.0.0.1", port: 3128, path: "http://example.test/", headers: { host: "example.test" } }, (r) => console.log(r.statusCode)).on("error", (e) => console.log("error", e.code))`;
    const r = await h.exec(name, ["node", "-e", get]);
    expect(r.stdout.trim()).toBe("403");
  });
});
