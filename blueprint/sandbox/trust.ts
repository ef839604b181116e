// The sandbox trusts its own CA, so the egress gateway can terminate TLS for endpoints with L7
// rules. The CA's key stays on the host (sandboxes/<name>/egress/ca/, 0600); only its
// certificate enters the sandbox, through the run/ folder mounted at /run/nemoclaw.
import { rootCertificates } from "node:tls";
import path from "node:path";
import { loadOrCreateSandboxCa } from "../ca/sandbox-ca.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { sandboxDir, sandboxRunDir } from "../state/paths.js";
import { RUNTIME_DIR } from "./container-spec.js";

export const CA_FILE = "ca.pem";
export const BUNDLE_FILE = "ca-bundle.pem";

/** Where tools look for trust: Node adds the CA to its roots; the rest read a full bundle. */
export const TRUST_ENV: Readonly<Record<string, string>> = {
  NODE_EXTRA_CA_CERTS: `${RUNTIME_DIR}/${CA_FILE}`,
  SSL_CERT_FILE: `${RUNTIME_DIR}/${BUNDLE_FILE}`,
  CURL_CA_BUNDLE: `${RUNTIME_DIR}/${BUNDLE_FILE}`,
  REQUESTS_CA_BUNDLE: `${RUNTIME_DIR}/${BUNDLE_FILE}`,
  PIP_CERT: `${RUNTIME_DIR}/${BUNDLE_FILE}`,
  GIT_SSL_CAINFO: `${RUNTIME_DIR}/${BUNDLE_FILE}`,
};

/** The same CA the gateway signs leaf certificates with (the gateway creates it the same way if first). */
export function sandboxCaDir(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "egress", "ca");
}

/** Writes the CA certificate and a bundle (public roots + CA) into the sandbox's run/ folder. */
export async function installSandboxTrust(stateDir: string, name: string): Promise<{ caFile: string; bundleFile: string }> {
  const ca = await loadOrCreateSandboxCa(sandboxCaDir(stateDir, name), name);
  const run = sandboxRunDir(stateDir, name);
  const caFile = path.join(run, CA_FILE);
  const bundleFile = path.join(run, BUNDLE_FILE);
  await writeFileAtomic(caFile, ca.certPem, { mode: 0o644 });
  await writeFileAtomic(bundleFile, `${rootCertificates.join("\n")}\n${ca.certPem}`, { mode: 0o644 });
  return { caFile, bundleFile };
}
