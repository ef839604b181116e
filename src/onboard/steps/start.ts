import { operatorGatewayPort, startGateway } from "../launch-adapter.js";
import type { Step } from "../types.js";

export const startStep: Step = {
  id: "start",
  title: "Start",
  async run(ctx) {
    // --port, else the port an earlier run bound, else the one the operator's OpenClaw uses
    // (OPENCLAW_GATEWAY_PORT > gateway.port > 18789), where their CLI looks for its gateway.
    const port = ctx.flags.port ?? ctx.state.answers.port ?? (await operatorGatewayPort());
    const r = await startGateway(ctx.config, ctx.name, port, ctx.progress);
    ctx.answers = { ...ctx.answers, port: r.port };
    ctx.facts.Gateway = r.detail;
    return { status: r.changed ? "done" : "unchanged", detail: r.detail };
  },
};

