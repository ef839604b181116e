// Where the runtime keeps host-side state. One place, so the driver, the daemon and the tests
// agree on every path.
//
//   <stateDir>/                     0700
//     control.sock                  0600  the daemon's control API (HTTP)
//     daemon.lock                   0600  held (listened on) by the one live daemon
//     daemon.pid, daemon.log              the daemon's pid and its output
//     sandboxes/<name>/             0700
//       sandbox.json                      what the sandbox was created with (SandboxRecord)
//       policy.yaml                       its policy: the base (or --policy FILE) plus presets
//       caller.secret               0600  the caller secret its supervisor sends in every preamble
//       egress/binaries.json        0600  executable sha256 pinned per path on first use (gateway)
//       run/                        0755  bind-mounted at /run/nemoclaw inside
//         proxy.sock                0600  served by the daemon; only the supervisor connects
import path from "node:path";

export function sandboxesDir(stateDir: string): string {
  return path.join(stateDir, "sandboxes");
}

export function sandboxDir(stateDir: string, name: string): string {
  return path.join(sandboxesDir(stateDir), name);
}

export function sandboxRecordFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "sandbox.json");
}

export function sandboxPolicyFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "policy.yaml");
}

export function sandboxCallerSecretFile(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "caller.secret");
}

export function sandboxRunDir(stateDir: string, name: string): string {
  return path.join(sandboxDir(stateDir, name), "run");
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
