import { z } from "zod";

const Semver = z.string().regex(/^\d+\.\d+\.\d+$/, "expected a version like 1.2.3");
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex sha256");

/** `blueprint/blueprint.yaml` as written by hand: what the runtime is and what it needs. */
export const BlueprintSourceSchema = z
  .object({
    name: z.string().min(1),
    version: Semver,
    min_plugin_version: Semver,
    min_openclaw_version: Semver,
    min_node_version: Semver,
  })
  .strict();

/** `dist/blueprint/blueprint.yaml` as sealed by the build: the source fields plus the file list and digest. */
export const SealedBlueprintSchema = BlueprintSourceSchema.extend({
  files: z.array(z.object({ path: z.string().min(1), sha256: Sha256 }).strict()).min(1),
  digest: Sha256,
}).strict();

export type BlueprintSource = z.infer<typeof BlueprintSourceSchema>;
export type SealedBlueprint = z.infer<typeof SealedBlueprintSchema>;
export type BlueprintFile = SealedBlueprint["files"][number];

export const MANIFEST_NAME = "blueprint.yaml";
