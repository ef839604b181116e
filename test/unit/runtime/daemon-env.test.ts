import { describe, expect, it } from "vitest";
import { daemonEnv } from "../../../blueprint/runtime/daemon-client.js";

describe("the daemon's environment", () => {
  it("keeps what it runs with and drops keys and tokens (the CLI call may be credentials add --from-env)", () => {
    const env = daemonEnv({
      PATH: "/usr/bin",
      HOME: "/home/op",
      DOCKER_HOST: "ssh://gpu",
      SSH_AUTH_SOCK: "/run/agent.sock",
      NODE_OPTIONS: "--max-old-space-size=512",
      NODE_COMPILE_CACHE: "/state/compile-cache",
      OPENAI_API_KEY: "sk-real",
      VLLM_API_KEY: "sk-vllm",
      GITHUB_TOKEN: "ghp_real",
      SLACK_BOT_TOKEN: "xoxb-real",
      MY_SERVICE_SECRET: "s",
      DB_PASSWORD: "p",
      OPENAI_APIKEY: "sk-2",
    });
    expect(env).toEqual({ PATH: "/usr/bin", HOME: "/home/op", DOCKER_HOST: "ssh://gpu", SSH_AUTH_SOCK: "/run/agent.sock", NODE_OPTIONS: "--max-old-space-size=512" });
  });
});
