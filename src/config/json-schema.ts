import { z } from "zod";
import { PluginConfigSchema } from "./schema.js";

/** The JSON Schema OpenClaw validates our settings with; openclaw.plugin.json carries the same (a test checks). */
export const pluginConfigJsonSchema = z.toJSONSchema(PluginConfigSchema, { target: "draft-07" }) as Record<string, unknown>;
