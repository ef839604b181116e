// `npm run bench`: `openclaw nemoclaw onboard --non-interactive` end to end with the base image
// cached (a stub vLLM-style server on 127.0.0.1 as the provider), against `sandbox create
// --gateway` alone through the same CLI in the same run (what onboarding adds: preflight,
// credential, policy check, route, health — the gateway's readiness included). Goal (issue 10):
// onboard ≤ 60 s. Prints each step's time from the --json report, and the re-run (no-op) time.
import { test } from "vitest";
import { uniqueName } from "../helpers/docker-run.js";
import { createPluginHome } from "../helpers/openclaw.js";
import { startStub } from "../helpers/stub-models.js";

test("onboard end to end vs sandbox create --gateway", async () => {
  const home = await createPluginHome();
  const stub = await startStub("openai", { tag: "bench" });
  const onboarded = uniqueName("onbbench");
  const bare = uniqueName("onbbare");
  try {
    let started = performance.now();
    const create = await home.run(["nemoclaw", "sandbox", "create", bare, "--gateway", "--json"], { timeoutMs: 900_000 });
    const createMs = performance.now() - started;
    if (create.exitCode !== 0) throw new Error(create.all);
    await home.run(["nemoclaw", bare, "destroy", "--yes"]);

    const args = ["nemoclaw", "onboard", "--non-interactive", "--json", "--name", onboarded, "--provider", "vllm", "--base-url", stub.baseUrl, "--model", "stub-model", "--api-key-env", "BENCH_KEY", "--port", "0"];
    started = performance.now();
    const first = await home.run(args, { env: { BENCH_KEY: "sk-bench-0123456789" }, timeoutMs: 900_000 });
    const onboardMs = performance.now() - started;
    if (first.exitCode !== 0) throw new Error(first.all);
    started = performance.now();
    const again = await home.run(args, { env: { BENCH_KEY: "sk-bench-0123456789" }, timeoutMs: 900_000 });
    const rerunMs = performance.now() - started;
    const steps = (JSON.parse(first.stdout) as { steps: Array<{ id: string; ms: number }> }).steps;
    console.log(
      [
        "",
        "Onboard (non-interactive, base image cached)",
        "",
        `  Onboard: ${(onboardMs / 1000).toFixed(1)} s (goal ≤ 60 s); steps: ${steps.map((s) => `${s.id} ${(s.ms / 1000).toFixed(1)} s`).join(", ")}`,
        `  sandbox create --gateway alone: ${(createMs / 1000).toFixed(1)} s; ratio onboard/create ${(onboardMs / createMs).toFixed(2)}x`,
        `  Re-run (no-op): ${(rerunMs / 1000).toFixed(1)} s${again.exitCode === 0 ? "" : " (FAILED)"}`,
        "",
      ].join("\n"),
    );
  } finally {
    await home.teardown([onboarded, bare]);
    await stub.close();
  }
}, 1_800_000);
