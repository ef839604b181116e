// The tools' Landlock domain: what every process the sandboxed gateway's agent starts runs in.
// Applied by the launcher a second time, as the same user, inside the gateway's own domain, so it
// is a child domain (Landlock stacks: it can only lose rights). It reaches none of the gateway's
// state (/sandbox/.openclaw, the logs in /tmp/openclaw, the spawn broker's sockets in /tmp), may
// bind no TCP port and connect only to the forwarder, and the launcher scopes signals and
// abstract sockets (ABI >= 6): it cannot signal the gateway, and Landlock's ptrace rule keeps
// /proc/<gateway>/{mem,environ,fd} closed to it. Node built-ins only: staged with the supervisor.

export const LAUNCHER = "/usr/local/lib/nemoclaw/landlock-exec";
export const FORWARDER_PORT = 3128;
export const PROXY_URL = `http://127.0.0.1:${FORWARDER_PORT}`;
/** The agent's workspace: the only place tools may write, outside the gateway's state. */
export const TOOL_WORKSPACE = "/sandbox/workspace";
/** The tools' TMPDIR: the gateway's /tmp holds its logs and its spawn broker's sockets. */
export const TOOL_TMPDIR = "/tmp/nemoclaw-tools";
/** System folders, and /run/nemoclaw for the CA certificate (proxy.sock there is 0600, not ours). */
export const TOOL_READ_ONLY = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", "/run/nemoclaw"];
export const TOOL_READ_WRITE = [TOOL_WORKSPACE, TOOL_TMPDIR, "/dev/null"];

/** argv that runs `argv` in the tools' domain (fails closed without Landlock). */
export function toolDomainArgv(argv: readonly string[]): string[] {
  return [LAUNCHER, "--hard-requirement", "--ro", ...TOOL_READ_ONLY, "--rw", ...TOOL_READ_WRITE, "--connect-tcp", String(FORWARDER_PORT), "--", ...argv];
}

/** argv that runs a shell command in the tools' domain, as the backend does for exec. */
export function toolShellArgv(command: string): string[] {
  return toolDomainArgv(["/bin/sh", "-c", command]);
}

/** Where the backend records the commands it starts: the OpenClaw state dir, out of the tools' reach. */
export function toolCommandLog(env: NodeJS.ProcessEnv): string {
  return `${env.OPENCLAW_STATE_DIR ?? `${env.HOME ?? "/sandbox"}/.openclaw`}/logs/nemoclaw-tools.jsonl`;
}

/** Variables a tool may inherit from the gateway: proxy and CA settings, locale. Nothing secret. */
const INHERITED = /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|CURL_CA_BUNDLE|REQUESTS_CA_BUNDLE|PIP_CERT|GIT_SSL_CAINFO|LANG|LC_[A-Z]+|TZ|TERM|NEMOCLAW_SANDBOX)$/;
/** Never passed, whoever asks: the gateway's credentials and anything named like one. */
const SECRET = /^OPENCLAW_GATEWAY_|TOKEN|SECRET|PASSWORD|API_KEY|_KEY$/i;

/** A tool's whole environment, built fresh: never the gateway's process.env as is. */
export function toolEnv(gatewayEnv: NodeJS.ProcessEnv, requested: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(gatewayEnv)) if (v !== undefined && INHERITED.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(requested)) if (!SECRET.test(k) && !/^(PATH|LD_|HOME$|SHELL$)/.test(k)) env[k] = v;
  Object.assign(env, {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: TOOL_WORKSPACE,
    TMPDIR: TOOL_TMPDIR,
    SHELL: "/bin/sh",
    NO_PROXY: "localhost,127.0.0.1",
    no_proxy: "localhost,127.0.0.1",
    NODE_USE_ENV_PROXY: "1",
  });
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]) env[name] = env[name.toLowerCase()] = PROXY_URL;
  return env;
}
