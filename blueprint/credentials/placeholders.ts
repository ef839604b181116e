// Placeholders are derived, not stored: HMAC-SHA256(placeholderKey, sandbox, credential), expanded
// into the credential kind's format. The same sandbox always sees the same placeholder (its
// OpenClaw config stays valid across restarts), two sandboxes never share one, and without the
// host's credentials.json nobody can compute or guess one.
import { createHmac } from "node:crypto";
import { KINDS, type PlaceholderRandom } from "./kinds.js";
import type { StoredCredential } from "./schema.js";

function randomFrom(key: Buffer, label: string): PlaceholderRandom {
  let counter = 0;
  let pool = Buffer.alloc(0);
  let offset = 0;
  const nextByte = (): number => {
    if (offset >= pool.length) {
      pool = createHmac("sha256", key).update(`${label}\0${counter++}`).digest();
      offset = 0;
    }
    return pool[offset++] ?? 0;
  };
  return {
    chars(alphabet, count) {
      // Rejection sampling keeps every character uniform (placeholders are compared, never decoded).
      const limit = 256 - (256 % alphabet.length);
      let out = "";
      while (out.length < count) {
        const b = nextByte();
        if (b < limit) out += alphabet[b % alphabet.length];
      }
      return out;
    },
  };
}

export function derivePlaceholder(placeholderKey: string, sandbox: string, credential: StoredCredential): string {
  const random = randomFrom(Buffer.from(placeholderKey, "hex"), `nemoclaw-placeholder\0${sandbox}\0${credential.name}`);
  return KINDS[credential.kind].placeholder(random, credential.secret, credential.placeholderPrefix);
}
