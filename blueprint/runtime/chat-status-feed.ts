// Keeps `/nemoclaw status|policy|logs` true in every served gateway sandbox. The chat command
// runs in the sandboxed gateway and has no way to the host daemon (nor may it get one: whatever
// the gateway's domain reaches, a bug in it could hand to the tools). So the host pushes: it
// holds an operator connection to each gateway (relay socket, 0600, host uid; the gateway's
// token) and calls the in-sandbox plugin's gateway method `nemoclaw.snapshot` with a fresh
// snapshot (chat-snapshot.ts) when the connection opens and whenever what it shows changes —
// an approval held or settled, the policy file, the route file or the audit log written. The
// snapshot lives in the gateway process's memory only: no file inside holds it, so nothing the
// tools run can read it, and a forged one would need the gateway's port and token, which the
// tools' domain cannot reach (docs/architecture.md, "Approvals in the chat").
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { EgressHandlerWithGateway } from "../gateway/egress-service.js";
import type { RouteStore } from "../inference/route.js";
import { SandboxRegistry } from "../sandbox/registry.js";
import { gatewayTokenFile } from "../sandbox/gateway-inside.js";
import { sandboxDir, sandboxPolicyFile } from "../state/paths.js";
import { SNAPSHOT_METHOD } from "../supervisor/tool-backend/chat-snapshot-message.js";
import { buildSnapshot } from "./chat-snapshot.js";
import { gatewaySocketFile } from "../sandbox/gateway-inside.js";
import { OpenclawGatewayClient } from "./openclaw-gateway-client.js";
const DEBOUNCE_MS = 500;
// Gentle while the gateway starts (each attempt it accepts costs it a handshake it may not finish yet).
const RETRY_MS = [2_000, 5_000, 10_000];

export interface ChatStatusFeedOptions {
  stateDir: string;
  egress: EgressHandlerWithGateway;
  routes: RouteStore;
  log(message: string): void;
}

interface Feed {
  name: string;
  client: OpenclawGatewayClient | undefined;
  connecting: boolean;
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  debounce: NodeJS.Timeout | undefined;
  watchers: Array<{ folder: string; watcher: FSWatcher }>;
  lastSent: string | undefined;
  stopped: boolean;
  /** Logged once per outage, not once per retry. */
  reported: boolean;
}

export class ChatStatusFeed {
  private readonly feeds = new Map<string, Feed>();
  private readonly registry: SandboxRegistry;
  private unsubscribe: (() => void) | undefined;
  private readonly options: ChatStatusFeedOptions;

  constructor(options: ChatStatusFeedOptions) {
    this.options = options;
    this.registry = new SandboxRegistry(options.stateDir);
  }

  start(): void {
    this.unsubscribe = this.options.egress.gateway.approvals.subscribe((event) => this.changed(event.approval.sandbox));
  }

  /** Starts feeding a sandbox (a no-op for one without a gateway). */
  async serve(name: string): Promise<void> {
    if (this.feeds.has(name)) return;
    const feed: Feed = { name, client: undefined, connecting: false, attempts: 0, timer: undefined, debounce: undefined, watchers: [], lastSent: undefined, stopped: false, reported: false };
    this.feeds.set(name, feed);
    this.connect(feed);
  }

  /** The policy, route and audit files are replaced or appended in these folders: any change re-sends. */
  private watchFiles(feed: Feed): void {
    const dir = sandboxDir(this.options.stateDir, feed.name);
    for (const folder of [dir, path.join(dir, "egress", "logs")]) {
      if (feed.watchers.some((w) => w.folder === folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, () => this.changed(feed.name));
        watcher.on("error", () => undefined);
        feed.watchers.push({ folder, watcher });
      } catch {
        // Not there yet (no audit log before the first request): the next push tries again.
      }
    }
  }

  release(name: string): void {
    const feed = this.feeds.get(name);
    if (feed === undefined) return;
    this.feeds.delete(name);
    feed.stopped = true;
    clearTimeout(feed.timer);
    clearTimeout(feed.debounce);
    for (const w of feed.watchers) w.watcher.close();
    feed.client?.close();
  }

  close(): void {
    this.unsubscribe?.();
    for (const name of [...this.feeds.keys()]) this.release(name);
  }

  private connect(feed: Feed): void {
    if (feed.stopped || feed.connecting || feed.client?.isOpen === true) return;
    feed.connecting = true;
    void (async () => {
      try {
        // Created but not yet recorded: try again later. Recorded without a gateway: nothing to feed.
        const record = await this.registry.get(feed.name).catch(() => undefined);
        if (record !== undefined && record.gateway === null) return this.release(feed.name);
        if (record === undefined) throw new Error("no sandbox record yet");
        const token = (await readFile(gatewayTokenFile(this.options.stateDir, feed.name), "utf8")).trim();
        let client: OpenclawGatewayClient | undefined;
        client = await OpenclawGatewayClient.connect({
          connect: () => net.connect(gatewaySocketFile(this.options.stateDir, feed.name)),
          token,
          displayName: "nemoclaw status feed",
          handshakeTimeoutMs: 10_000,
          // Also called when a handshake fails (client still undefined): the catch below retries then.
          onClose: () => {
            if (client === undefined || feed.client !== client) return;
            feed.client = undefined;
            this.retry(feed);
          },
        });
        if (feed.stopped) return client.close();
        feed.client = client;
        feed.attempts = 0;
        feed.lastSent = undefined;
        if (feed.reported) this.options.log(`chat status: ${feed.name}: connected to the gateway inside`);
        feed.reported = false;
        await this.push(feed);
      } catch (e) {
        if (!feed.reported) this.options.log(`chat status: ${feed.name}: gateway inside not reachable yet (${(e as Error).message}); retrying`);
        feed.reported = true;
        this.retry(feed);
      } finally {
        feed.connecting = false;
      }
    })();
  }

  private retry(feed: Feed): void {
    if (feed.stopped) return;
    clearTimeout(feed.timer);
    const delay = RETRY_MS[Math.min(feed.attempts, RETRY_MS.length - 1)] as number;
    feed.attempts += 1;
    feed.timer = setTimeout(() => this.connect(feed), delay);
    feed.timer.unref();
  }

  private changed(name: string): void {
    const feed = this.feeds.get(name);
    if (feed === undefined || feed.client === undefined) return;
    clearTimeout(feed.debounce);
    feed.debounce = setTimeout(() => void this.push(feed), DEBOUNCE_MS);
    feed.debounce.unref();
  }

  private async push(feed: Feed): Promise<void> {
    const client = feed.client;
    if (client === undefined || !client.isOpen) return;
    try {
      await this.options.egress.ensureSandbox(feed.name);
      this.watchFiles(feed);
      const [route, record, policyText] = await Promise.all([
        this.options.routes.get(feed.name).catch(() => undefined),
        this.registry.get(feed.name).catch(() => undefined),
        readFile(sandboxPolicyFile(this.options.stateDir, feed.name)).catch(() => undefined),
      ]);
      const snapshot = await buildSnapshot(feed.name, {
        gateway: this.options.egress.gateway,
        route,
        presets: record?.presets ?? [],
        revision: policyText === undefined ? null : createHash("sha256").update(policyText).digest("hex").slice(0, 12),
      });
      // `at` changes every time: compare what the operator would see.
      const shown = JSON.stringify({ ...snapshot, at: "" });
      if (shown === feed.lastSent) return;
      await client.request(SNAPSHOT_METHOD, snapshot, 10_000);
      feed.lastSent = shown;
    } catch (e) {
      this.options.log(`chat status: ${feed.name}: snapshot not delivered (${(e as Error).message})`);
    }
  }
}
