// Leaf certificates for terminated TLS: minted on demand for the host the sandbox CONNECTed
// to, signed by the sandbox's CA, cached (least recently used out first). One key pair serves
// every leaf of a sandbox; a certificate is cheap to sign, a key pair less so.

import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import tls from "node:tls";
import { EC_KEY, EC_SIGN, pem, x509Library } from "../ca/sandbox-ca.js";
import type { SandboxCa } from "../ca/sandbox-ca.js";

export interface LeafCacheOptions {
  /** Contexts kept. Default 1000. */
  max?: number;
  /** Leaf lifetime. Default 7 days (re-minted once within a day of expiry). */
  lifetimeMs?: number;
}

interface Cached {
  context: tls.SecureContext;
  expires: number;
}

export class LeafCache {
  private readonly ca: SandboxCa;
  private readonly max: number;
  private readonly lifetimeMs: number;
  private readonly cache = new Map<string, Cached>();
  private readonly minting = new Map<string, Promise<tls.SecureContext>>();
  private keys: Promise<{ pair: CryptoKeyPair; keyPem: string }> | undefined;

  constructor(ca: SandboxCa, options: LeafCacheOptions = {}) {
    this.ca = ca;
    this.max = options.max ?? 1000;
    this.lifetimeMs = options.lifetimeMs ?? 7 * 24 * 60 * 60 * 1000;
  }

  /** A TLS server context presenting a certificate for `host` (a name or an address). */
  async context(host: string): Promise<tls.SecureContext> {
    const hit = this.cache.get(host);
    if (hit !== undefined && hit.expires - Date.now() > 24 * 60 * 60 * 1000) {
      this.cache.delete(host);
      this.cache.set(host, hit);
      return hit.context;
    }
    let pending = this.minting.get(host);
    if (pending === undefined) {
      pending = this.mint(host).finally(() => this.minting.delete(host));
      this.minting.set(host, pending);
    }
    return pending;
  }

  get size(): number {
    return this.cache.size;
  }

  private leafKeys(): Promise<{ pair: CryptoKeyPair; keyPem: string }> {
    this.keys ??= (async () => {
      const pair = (await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
      const keyPem = pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", pair.privateKey as webcrypto.CryptoKey));
      return { pair, keyPem };
    })();
    return this.keys;
  }

  private async mint(host: string): Promise<tls.SecureContext> {
    const [{ pair, keyPem }, x509] = await Promise.all([this.leafKeys(), x509Library()]);
    const now = Date.now();
    const expires = now + this.lifetimeMs;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1"),
      subject: `CN=${host}`,
      issuer: this.ca.cert.subject,
      notBefore: new Date(now - 60 * 60 * 1000),
      notAfter: new Date(expires),
      publicKey: pair.publicKey,
      signingKey: this.ca.signingKey,
      signingAlgorithm: EC_SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) === 0 ? "dns" : "ip", value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(this.ca.cert),
      ],
    });
    const context = tls.createSecureContext({ key: keyPem, cert: `${cert.toString("pem")}\n${this.ca.certPem}` });
    this.cache.set(host, { context, expires });
    while (this.cache.size > this.max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return context;
  }
}
