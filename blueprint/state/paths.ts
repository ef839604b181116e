// Where the runtime keeps host-side state. One place, so the driver, the daemon and the tests
// agree on every path.
//
//   <stateDir>/                     0700
//     control.sock                  0600  the daemon's control API (HTTP)
//     daemon.lock                   0600  held (listened on) by the one live daemon
//     daemon.pid, daemon.log              the daemon's pid and its output
//     staged-volumes.json                 staged volumes found complete (sandbox/staged-volume.ts)
//     sandboxes/<name>/             0700
//       sandbox.json                      what the sandbox was created with (SandboxRecord)
//       policy.yaml                       its policy: the base (or --policy FILE) plus presets
//       intent.json                       running or stopped on purpose, its relay's port (sandbox/intent.ts)
//       caller.secret               0600  the caller secret its supervisor sends in every preamble
//       egress/binaries.json        0600  executable sha256 pinned per path on first use (gateway)
//
//   /tmp/nemoclaw-<uid>/            0700  runDirsRoot(): outside the state dir on purpose
//     <hash of stateDir>/<name>/    0755  sandboxRunDir(): bind-mounted at /run/nemoclaw inside
//       proxy.sock                  0600  served by the daemon; only the supervisor connects
//       ca.pem, ca-bundle.pem       0644  the sandbox's CA certificate (sandbox/trust.ts)
//
// The run dir is the one host folder a sandbox mounts, and a bind mount's source path shows in
// the sandbox's /proc/self/mountinfo. Under the state dir it would show the user's home and
// the OpenClaw state layout; here it shows only the uid and a hash. Its content is recreated on
// every start (sandbox/run-dir.ts), so a /tmp emptied by a reboot loses nothing.
import { createHash } from "node:crypto";
import path from "node:path";

export function stagedVolumesFile(stateDir: string): string {
  return path.join(stateDir, "staged-volumes.json");
}

export function sandboxesDir(stateDir: string): string {
  return path.join(stateDir, "sandboxes");
}

export function sandboxDir(stateDir: string, name: string): string {
  return path.join(sandboxesDir(stateDir), name);
}

export function sandboxRecordFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "sandbox.json");
}

export function sandboxIntentFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "intent.json");
}

export function sandboxPolicyFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "policy.yaml");
}

/** The folder holding every state dir's sandbox run dirs for this user. */
export function runDirsRoot(): string {
  // Not os.tmpdir(): TMPDIR may differ between the CLI and the detached daemon, which must agree.
  return `/tmp/nemoclaw-${process.getuid?.() ?? "user"}`;
}

/** The run dirs of one state dir: named by a hash of its path, which the sandbox may see. */
export function stateRunDir(stateDir: string): string {
  return path.join(runDirsRoot(), createHash("sha256").update(path.resolve(stateDir)).digest("hex").slice(0, 12));
}

export function sandboxCallerSecretFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "caller.secret");
}

export function sandboxRunDir(stateDir: string, name: string): string {
  return path.join(stateRunDir(stateDir), name);
}

export function proxySocketFile(stateDir: string, name: string): string {
  return path.join(sandboxRunDir(stateDir, name), "proxy.sock");
}

export function controlSocketFile(stateDir: string): string {
  return path.join(stateDir, "control.sock");
}

export function daemonLockFile(stateDir: string): string {
  return path.join(stateDir, "daemon.lock");
}

export function daemonPidFile(stateDir: string): string {
  return path.join(stateDir, "daemon.pid");
}

export function daemonLogFile(stateDir: string): string {
  return path.join(stateDir, "daemon.log");
}
