// The Landlock lists a sandbox gets from the shipped base policy (policies/openclaw-sandbox.yaml),
// computed by the product's own loader and the driver's translation, so red-team cases confine
// a container exactly as a real sandbox is confined, and stay in step when the policy changes.
import type { LandlockOptions } from "../../blueprint/sandbox/container-spec.js";
import { composePolicy, sandboxSettings } from "../../blueprint/sandbox/sandbox-policy.js";

export const SHIPPED_LANDLOCK: LandlockOptions = sandboxSettings((await composePolicy(undefined, [])).policy).landlock;

/** The shipped lists with one setting changed, for control cases. */
export const withLandlock = (changes: Partial<LandlockOptions>): LandlockOptions => ({ ...SHIPPED_LANDLOCK, ...changes });
