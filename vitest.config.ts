import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Generous: a real `openclaw` call takes 10–60 s on a loaded 2-core machine, and many tests make several.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // Docker-backed suites share one dockerd; running files in parallel on 2 cores only adds noise.
    fileParallelism: false,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
