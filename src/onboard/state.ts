// What onboarding remembers per sandbox: the answers it was given (so a re-run with fewer flags
// resumes with the same choices) and which steps finished. `<stateDir>/onboard/<name>.json`,
// written atomically (temp file, fsync, rename), zod-checked when read: a file that does not
// parse is an error that says what to do, never silently replaced.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { UserError } from "../errors.js";

export const OnboardAnswersSchema = z
  .object({
    provider: z.string(),
    model: z.string().nullable(),
    baseUrl: z.string().nullable(),
    credential: z.string().nullable(),
    /** The environment variable the key was read from (never the key). */
    apiKeyEnv: z.string().nullable(),
    presets: z.array(z.string()),
    policy: z.string().nullable(),
    /** The gateway's port on the host's loopback, as the relay bound it. */
    port: z.number().int().min(1).max(65535),
  })
  .strict();
export type OnboardAnswers = z.infer<typeof OnboardAnswersSchema>;

export const OnboardStateSchema = z
  .object({
    version: z.literal(1),
    name: z.string(),
    /** Set once this onboarding created the sandbox: a sandbox it did not create is never replaced. */
    createdSandbox: z.boolean(),
    answers: OnboardAnswersSchema.partial(),
    steps: z.record(z.string(), z.object({ status: z.enum(["done", "unchanged"]), at: z.string() }).strict()),
    completedAt: z.string().nullable(),
  })
  .strict();
export type OnboardState = z.infer<typeof OnboardStateSchema>;

export function onboardStateFile(stateDir: string, name: string): string {
  return path.join(stateDir, "onboard", `${name}.json`);
}

export async function readOnboardState(stateDir: string, name: string): Promise<OnboardState> {
  const file = onboardStateFile(stateDir, name);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, name, createdSandbox: false, answers: {}, steps: {}, completedAt: null };
    throw e;
  }
  let parsed;
  try {
    parsed = OnboardStateSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    throw new UserError(`the onboarding state ${file} is not valid`, `remove it (\`rm ${file}\`) and run onboard again; the sandbox itself is not affected`);
  }
  return parsed.data;
}

export async function writeOnboardState(stateDir: string, state: OnboardState): Promise<void> {
  const file = onboardStateFile(stateDir, state.name);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
