// The per-sandbox certificate authority used to terminate TLS where L7 rules need to read
// requests. Generated on the host, one per sandbox; the private key stays in the host state
// directory (0600) and never enters the container. Only `ca.pem` is exported, for the
// sandbox's trust store (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and friends).

import { webcrypto } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type * as X509 from "@peculiar/x509";
import { writeFileAtomic } from "../state/atomic-write.js";

let x509Loaded: Promise<typeof X509> | undefined;
/**
 * @peculiar/x509 (with reflect-metadata, which it needs first), loaded on first use: it costs
 * about 0.1 s to load, and most runtime verbs never touch a certificate.
 */
export function x509Library(): Promise<typeof X509> {
  x509Loaded ??= (async () => {
    await import("reflect-metadata");
    const loaded = await import("@peculiar/x509");
    // Bundled, a CommonJS library imported dynamically arrives as its `default` export.
    const x509 = "cryptoProvider" in loaded ? loaded : (loaded as unknown as { default: typeof X509 }).default;
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return x509Loaded;
}

export const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
export const EC_SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

export interface SandboxCa {
  /** PEM of the CA certificate: what the sandbox trusts. */
  certPem: string;
  cert: X509.X509Certificate;
  signingKey: CryptoKey;
  certFile: string;
  keyFile: string;
}

export function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function derOf(pemText: string): Buffer {
  return Buffer.from(pemText.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/** Loads the CA from `dir` (ca.pem, ca.key), creating it on first use. */
export async function loadOrCreateSandboxCa(dir: string, sandbox: string): Promise<SandboxCa> {
  const certFile = path.join(dir, "ca.pem");
  const keyFile = path.join(dir, "ca.key");
  const existing = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]).catch(() => undefined);
  const x509 = await x509Library();
  if (existing !== undefined) {
    const [certPem, keyPem] = existing;
    const signingKey = await webcrypto.subtle.importKey("pkcs8", derOf(keyPem), EC_KEY, false, ["sign"]);
    return { certPem, cert: new x509.X509Certificate(certPem), signingKey: signingKey as CryptoKey, certFile, keyFile };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys = (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1"),
    name: `CN=nemoclaw sandbox CA (${sandbox.replace(/[,=+<>#;"\\]/g, "_")}), O=nemoclaw`,
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + 10 * 365 * 24 * 60 * 60 * 1000),
    keys,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString("pem") + "\n";
  const keyPem = pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey as webcrypto.CryptoKey));
  // Key first: a crash in between leaves no certificate without its key.
  await writeFileAtomic(keyFile, keyPem, { mode: 0o600 });
  await writeFileAtomic(certFile, certPem, { mode: 0o644 });
  return { certPem, cert, signingKey: keys.privateKey, certFile, keyFile };
}
