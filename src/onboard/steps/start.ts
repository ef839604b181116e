import { startGateway } from "../launch-adapter.js";
import type { Step } from "../types.js";

export const startStep: Step = {
  id: "start",
  title: "Start",
  async run(ctx) {
    const r = await startGateway(ctx.config, ctx.name, ctx.progress);
    return { status: r.changed ? "done" : "unchanged", detail: r.detail };
  },
};
