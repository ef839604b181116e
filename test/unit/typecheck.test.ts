import { execa } from "execa";
import { expect, it } from "vitest";
import { node24Bin, repoRoot } from "../helpers/node24.js";

it("the whole project (sources, scripts and tests) typechecks under strict TypeScript", async () => {
  const r = await execa("npx", ["tsc", "-p", "tsconfig.test.json"], {
    cwd: repoRoot,
    reject: false,
    env: { PATH: `${node24Bin()}:${process.env.PATH ?? ""}` },
  });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
});
