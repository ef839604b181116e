import { DEFAULT_GATEWAY_PORT, startGateway } from "../launch-adapter.js";
import type { Step } from "../types.js";

export const startStep: Step = {
  id: "start",
  title: "Start",
  async run(ctx) {
    // --port, else the port an earlier run bound, else OpenClaw's own default.
    const port = ctx.flags.port ?? ctx.state.answers.port ?? DEFAULT_GATEWAY_PORT;
    const r = await startGateway(ctx.config, ctx.name, port, ctx.progress);
    ctx.answers = { ...ctx.answers, port: r.port };
    ctx.facts.Gateway = r.detail;
    return { status: r.changed ? "done" : "unchanged", detail: r.detail };
  },
};
