import type { OpenClawPluginApi } from "openclaw/plugin-sdk/plugin-entry";
import { resolvePluginConfig } from "../config/resolve.js";
import { action } from "./output.js";
import { SKILL_EXIT_CODES } from "./skill-exit-codes.js";
import type { GatewayOpts } from "./gateway.js";
import type { EjectOpts, UninstallOpts } from "./lifecycle.js";
import type { SkillTestOptions } from "./skill.js";

// Every `openclaw` command loads this plugin (its launch interception must see `openclaw gateway`),
// so registering only declares the tree: each verb's code, and what it imports, loads when it runs.
const verbs = {
  blueprint: () => import("./blueprint.js"),
  credentials: () => import("./credentials.js"),
  doctor: () => import("./doctor.js"),
  egress: () => import("./egress.js"),
  gateway: () => import("./gateway.js"),
  inference: () => import("./inference.js"),
  launch: () => import("./launch.js"),
  lifecycle: () => import("./lifecycle.js"),
  onboard: () => import("./onboard.js"),
  policy: () => import("./policy.js"),
  sandbox: () => import("./sandbox.js"),
  skill: () => import("./skill.js"),
  status: () => import("./status.js"),
};

type Registrar = Parameters<OpenClawPluginApi["registerCli"]>[0];
type Program = Parameters<Registrar>[0]["program"];

export const CLI_DESCRIPTION = "Run OpenClaw in a locked-down sandbox: policy, sandboxes, approvals, credentials, inference, diagnostics";

/** The `openclaw nemoclaw …` command tree. Config is parsed when a verb runs, not at registration. */
export function registerNemoclawCli(program: Program, pluginConfig: unknown): void {
  const config = () => resolvePluginConfig(pluginConfig);
  const root = program
    .command("nemoclaw")
    .description(CLI_DESCRIPTION)
    .addHelpText("after", "\nEvery verb that scripts use takes --json.");

  root
    .command("status")
    .description("Every sandbox: layers in force (read from inside), policy revision, inference route, pending approvals, gateway; the daemon; disk. Exit 3 when a layer is not in force")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.status()).overviewStatus(config(), opts)));

  root
    .command("doctor")
    .description("Preflight: Node, Docker, Landlock, seccomp, cgroups, ports, state — each OK/FAIL with the fix")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.doctor()).doctor(config(), opts)));

  const policy = root.command("policy").description("Check policy files and list presets (OpenShell format)");
  policy
    .command("check")
    .description("Validate a policy file (and presets merged into it); errors name file:line:column")
    .argument("<file>", "policy YAML file")
    .option("--preset <names>", "comma-separated presets to merge in", "")
    .option("--json", "machine-readable output")
    .action(action(async (file: string, opts: { preset: string; json?: boolean }) => (await verbs.policy()).policyCheck(file, opts)));
  policy
    .command("presets")
    .description("List the policy presets and what each allows")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.policy()).policyPresets(opts)));

  root
    .command("blueprint")
    .description("Inspect the nemoclaw runtime (blueprint)")
    .command("verify")
    .description("Recompute the runtime's digest: OK, or exactly which files differ")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.blueprint()).blueprintVerify(opts)));

  const sandbox = root.command("sandbox").description("Create and list sandboxes");
  sandbox
    .command("create")
    .description("Create a sandbox and start it: image (built on first use), volume, policy, supervisor")
    .argument("[name]", "RFC 1123 label (default: the defaultSandbox setting, `openclaw`)")
    .option("--policy <file>", "policy file instead of the base policy (OpenShell format)")
    .option("--preset <names>", "comma-separated presets to merge in (see `policy presets`)")
    .option("--memory <size>", "memory limit, e.g. 2g (default 2g, 4g with --gateway; no swap)")
    .option("--cpus <n>", "CPU limit, e.g. 1 or 0.5 (default 1, 2 with --gateway)")
    .option("--disk <size>", "size limit of /sandbox, e.g. 10g; 0 for none (default: plugin config sandboxDisk, else 10g)")
    .option("--gateway", "its workload is OpenClaw's gateway (loopback 18789 inside; tools in a stricter Landlock domain)")
    .option("--json", "machine-readable output")
    .action(
      action(async (name: string | undefined, opts: { policy?: string; preset?: string; memory?: string; cpus?: string; disk?: string; gateway?: boolean; json?: boolean }) =>
        (await verbs.sandbox()).sandboxCreate(config(), name, opts, reservedNames()),
      ),
    );
  sandbox
    .command("list")
    .description("List this host's sandboxes and whether each is running")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.sandbox()).sandboxList(config(), opts)));

  const daemon = root.command("daemon").description("The host daemon that serves sandbox egress (started on demand)");
  daemon
    .command("status")
    .description("Whether it runs, its pid, and the sandboxes it serves")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.sandbox()).daemonStatus(config(), opts)));
  daemon
    .command("stop")
    .description("Stop it: every sandbox's egress closes until it starts again")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.sandbox()).daemonStop(config(), opts)));

  root
    .command("approvals")
    .description("Pending egress approvals: who (binary, pid), what (host:port, request), which sandbox")
    .option("--sandbox <name>", "only this sandbox's")
    .option("--watch", "keep listing new approvals and decisions as they happen")
    .option("--json", "machine-readable output (JSON lines with --watch)")
    .action(action(async (opts: { sandbox?: string; watch?: boolean; json?: boolean }) => (await verbs.egress()).approvalsList(config(), opts)));
  for (const [verb, decision, text] of [
    ["approve", "approve", "Let a held egress request through (--always: add a rule to the sandbox's policy)"],
    ["deny", "deny", "Refuse a held egress request with a 403 (--always: never ask again)"],
  ] as const) {
    root
      .command(verb)
      .description(text)
      .argument("<id>", "approval id from `openclaw nemoclaw approvals`")
      .option("--always", decision === "approve" ? "allow always: persist a rule for this host, port and binary" : "deny always")
      .option("--allow-ip <cidr...>", "pin the rule to these addresses (needed for loopback or private destinations)")
      .option("--json", "machine-readable output")
      .action(
        action(async (id: string, opts: { always?: boolean; allowIp?: string[]; json?: boolean }) =>
          (await verbs.egress()).approvalsDecide(config(), id, decision, opts),
        ),
      );
  }

  root
    .command("inference")
    .description("The inference router: `inference providers`; per sandbox `<name> inference set|get`")
    .command("providers")
    .description("The provider kinds the router reaches, their default address and the key each needs")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.inference()).inferenceProviders(config(), opts)));

  const credentials = root.command("credentials").description("Secrets held on the host; sandboxes see placeholders, never the values");
  credentials
    .command("add")
    .description("Store (or replace) a secret, read from an environment variable or stdin — never from an argument")
    .argument("<name>", "a kind (openai, anthropic, github, slack-bot, telegram-bot, …) or any name with --kind")
    .option("--kind <kind>", "the credential kind, when the name is not one")
    .option("--from-env <var>", "read the secret from this environment variable")
    .option("--stdin", "read the secret from stdin (a pipe)")
    .option(
      "--bind <binding>",
      "where the egress proxy may send it: host:port[:header=H|:path-prefix=P|:query=Q]; repeatable (default: the kind's)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--prefix <text>", "generic credentials: what the placeholder starts with")
    .option("--json", "machine-readable output")
    .action(
      action(async (name: string, opts: { kind?: string; fromEnv?: string; stdin?: boolean; bind?: string[]; prefix?: string; json?: boolean }) =>
        (await verbs.credentials()).credentialsAdd(config(), name, opts),
      ),
    );
  credentials
    .command("list")
    .description("Names, kinds, where each may be sent, and a fingerprint; never the values")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.credentials()).credentialsList(config(), opts)));
  credentials
    .command("remove")
    .description("Delete a stored secret")
    .argument("<name>")
    .option("--json", "machine-readable output")
    .action(action(async (name: string, opts: { json?: boolean }) => (await verbs.credentials()).credentialsRemove(config(), name, opts)));

  const background: Array<[string, string, "gatewayStartVerb" | "gatewayStopVerb" | "gatewayRestartVerb"]> = [
    ["start", "Without a name: bring back every sandbox not stopped on purpose (after a reboot, a dockerd restart), relays on their old ports. With one: that gateway sandbox in the background, its port on 127.0.0.1", "gatewayStartVerb"],
    ["stop", "Stop the background gateway: its relay and its sandbox", "gatewayStopVerb"],
    ["restart", "Stop, then start the background gateway", "gatewayRestartVerb"],
  ];
  for (const [verb, description, run] of background) {
    root
      .command(verb)
      .description(description)
      .argument("[name]", "the sandbox (default: the one launch is enabled for, else defaultSandbox)")
      .option("--port <port>", "host loopback port (default: the one it had, else 18789; 0: any free one)")
      .option("--json", "machine-readable output")
      .action(action(async (name: string | undefined, opts: GatewayOpts) => (await verbs.gateway())[run](config(), name, opts)));
  }

  const launch = root.command("launch").description("Where `openclaw gateway` runs: inside a --gateway sandbox (enable) or on the host (disable)");
  launch
    .command("enable")
    .description("`openclaw gateway [run]` and the installed service run the gateway inside this sandbox")
    .argument("<name>", "a sandbox made with `sandbox create <name> --gateway`")
    .option("--json", "machine-readable output")
    .action(action(async (name: string, opts: { json?: boolean }) => (await verbs.launch()).launchEnable(name, opts)));
  launch
    .command("disable")
    .description("The gateway runs on the host again, unsandboxed (warned about on every launch)")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.launch()).launchDisable(config(), opts)));
  root
    .command("onboard")
    .description("Set up inference, policy and a gateway sandbox in one guided step (re-running changes only what differs)")
    .option("--name <name>", "sandbox name (default: the defaultSandbox setting, `openclaw`)")
    .option("--provider <kind>", "inference provider (see `inference providers`), or none")
    .option("--model <id>", "the provider's model id")
    .option("--api-key-env <var>", "environment variable holding the provider's key (read here, stored on the host only)")
    .option("--base-url <url>", "the provider's address, e.g. http://127.0.0.1:8000/v1")
    .option("--preset <names>", "comma-separated policy presets (see `policy presets`)")
    .option("--policy <file>", "policy file instead of the base policy (OpenShell format)")
    .option("--docker-host <url>", "Docker Engine to use (unix://, tcp://, ssh://)")
    .option("--port <port>", "the gateway's port on the host's 127.0.0.1 (default 18789; 0: any free one)")
    .option("--recreate", "destroy and rebuild the sandbox")
    .option("--yes", "confirm replacing a sandbox onboarding did not create (with --recreate)")
    .option("--non-interactive", "never ask (also when stdin is not a terminal): flags and NEMOCLAW_* variables only")
    .option("--json", "one JSON document on stdout")
    .addHelpText("after", "\nEnvironment: NEMOCLAW_NAME, NEMOCLAW_PROVIDER, NEMOCLAW_MODEL, NEMOCLAW_API_KEY_ENV, NEMOCLAW_BASE_URL, NEMOCLAW_PRESET, NEMOCLAW_POLICY, NEMOCLAW_PORT (flags win).")
    .action(action(async (opts: Record<string, unknown>) => (await verbs.onboard()).onboard(config(), opts, reservedNames())));

  root
    .command("eject")
    .description("Stop sandboxing: the gateway stops (the sandbox is kept, stopped), your OpenClaw config goes back to its pre-onboarding bytes (your later changes merged in and named)")
    .argument("[name]", "the sandbox (default: the one launch is enabled for, else defaultSandbox)")
    .option("--export <dir>", "copy /sandbox out into this new (or empty) folder first")
    .option("--destroy", "also remove the sandbox: container, /sandbox volume, state (needs --export or --yes)")
    .option("--yes", "with --destroy: without exporting /sandbox")
    .option("--json", "machine-readable output")
    .action(action(async (name: string | undefined, opts: EjectOpts) => (await verbs.lifecycle()).eject(config(), name, opts)));
  root
    .command("uninstall")
    .description("Remove everything nemoclaw made for this state dir (containers, volumes, images, staged volumes, daemon, run dirs, state) after restoring your OpenClaw config; prints what goes and does it only with --yes")
    .option("--keep-data", "keep the /sandbox volumes and the stored credentials")
    .option("--yes", "go ahead (without it: the summary only)")
    .option("--json", "machine-readable output")
    .action(action(async (opts: UninstallOpts) => (await verbs.lifecycle()).uninstall(config(), opts)));
  root
    .command("gc")
    .description("Remove what no sandbox uses any more: old images and their build stages, staged volumes and runtime copies of other builds, stale run dirs (never /sandbox data)")
    .option("--json", "machine-readable output")
    .action(action(async (opts: { json?: boolean }) => (await verbs.lifecycle()).gc(config(), opts)));

  root
    .command("skill")
    .description("Test an untrusted skill in a throwaway sandbox")
    .command("test")
    .description("Run a skill in a throwaway observing sandbox: what it tried, a verdict, a least-privilege policy")
    .argument("<skill>", "a folder with SKILL.md, clawhub:<slug>, an npm spec (name@version) or a git URL")
    .option("--prompt <text>", "a prompt to run (repeatable; default: derived from SKILL.md)", (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--prompts <file>", "prompts, one per line")
    .option("--timeout <seconds>", "each prompt's limit, and the least time the sandbox is watched (delayed behaviour)", "300")
    .option("--model <provider/model>", "the model, through the inference router (e.g. ollama/qwen3:8b; default: the default sandbox's inference route)")
    .option("--base-url <url>", "the provider's base URL (local or compatible servers)")
    .option("--credential <name>", "the stored credential the provider uses")
    .option("--policy <file>", "test against this policy instead of only observing")
    .option("--keep", "keep the sandbox afterwards")
    .option("--json", "machine-readable report")
    .addHelpText("after", `\n${SKILL_EXIT_CODES}`)
    .action(action(async (skill: string, opts: SkillTestOptions) => (await verbs.skill()).skillTest(config(), skill, opts)));

  // Anything else is `<name> <verb> …`: a per-sandbox verb, parsed by a command tree of its own.
  const reservedNames = () => root.commands.map((c) => c.name());
  root
    .argument("[sandbox]", "a sandbox name, followed by one of its verbs")
    .argument("[verb]", "status | connect | exec | logs | gateway | stop | start | destroy | policy | inference")
    .argument("[args...]")
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      "after",
      [
        "",
        "Per-sandbox verbs:",
        "  openclaw nemoclaw <name> status [--json]      layers in force, read from inside",
        "  openclaw nemoclaw <name> connect              interactive shell, as the sandbox user",
        "  openclaw nemoclaw <name> exec [--tty] -- CMD  run one command inside; its exit code is passed through",
        "  openclaw nemoclaw <name> logs [--follow]      the supervisor's and the workload's output",
        "  openclaw nemoclaw <name> logs --egress [--follow] [--json]   egress decisions (OCSF)",
        "  openclaw nemoclaw <name> logs --inference [--follow] [--json]   one line per model call (no prompts)",
        "  openclaw nemoclaw <name> gateway [--port N]   foreground: a --gateway sandbox's gateway on the host's loopback",
        "  openclaw nemoclaw <name> stop | start         start recreates the container from state if it is gone",
        "  openclaw nemoclaw <name> destroy --yes        container, /sandbox volume and state",
        "  openclaw nemoclaw <name> policy get [--full] | set FILE | diff FILE | add-preset NAME",
        "                                                the network part changes live; static changes need a recreate",
        "  openclaw nemoclaw <name> inference set --provider P --model M [--base-url U] [--credential NAME] [--allow-private]",
        "  openclaw nemoclaw <name> inference get [--json]   the sandbox's route; set is in force on the next request",
      ].join("\n"),
    )
    .action(
      action(async (name: string | undefined, verb: string | undefined) => {
        if (name === undefined) {
          root.outputHelp();
          return;
        }
        const words = root.args.slice(1);
        await runSandboxVerb(root, config, name, verb, words);
      }),
    );
}

/** Parses `<verb> [options] [args]` for one sandbox with commander, then runs it. */
async function runSandboxVerb(
  root: Program,
  config: () => ReturnType<typeof resolvePluginConfig>,
  name: string,
  verb: string | undefined,
  words: readonly string[],
): Promise<void> {
  const { checkName, sandboxVerb } = await verbs.sandbox();
  checkName(name, []);
  const tree = root.createCommand(`openclaw nemoclaw ${name}`).exitOverride().enablePositionalOptions();
  tree.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  let ran: Promise<void> | undefined;
  const run = (v: string) => (opts: Record<string, unknown>, rest: readonly string[] = []) => {
    ran = sandboxVerb(config(), name, v, opts, rest);
  };
  const json = (c: ReturnType<Program["createCommand"]>) => c.option("--json", "machine-readable output");
  json(tree.command("status").description("Layers in force, read from inside")).action((o) => run("status")(o));
  tree.command("connect").description("Interactive shell inside, as the sandbox user").action((o) => run("connect")(o));
  tree
    .command("exec")
    .description("Run one command inside; exit code passed through")
    .option("--tty", "allocate a terminal")
    .argument("<command...>")
    .passThroughOptions()
    .action((command: string[], o) => run("exec")(o, command));
  tree
    .command("logs")
    .description("The supervisor's and the workload's output")
    .option("--follow", "keep printing until interrupted")
    .option("--tail <lines>", "only the last lines")
    .option("--egress", "the egress audit log instead: every allow, deny, hold and approval")
    .option("--inference", "the inference log instead: provider, model, status, latency, tokens per call")
    .option("--json", "with --egress: OCSF JSON lines; with --inference: JSON lines")
    .action((o) => run("logs")(o));
  tree
    .command("gateway")
    .description("Foreground: start a --gateway sandbox, relay its port to 127.0.0.1:<port>, stream its output; Ctrl-C/SIGTERM/SIGHUP stop it")
    .option("--port <port>", "host loopback port (default 18789; 0: any free one)")
    .action((o) => run("gateway")(o));
  json(tree.command("stop").description("Stop the sandbox")).action((o) => run("stop")(o));
  json(tree.command("start").description("Start it; recreates the container from state when gone")).action((o) => run("start")(o));
  json(tree.command("destroy").description("Delete container, volume and state").option("--yes", "confirm")).action((o) => run("destroy")(o));
  json(
    tree
      .command("policy")
      .description("get [--full] | set FILE | diff FILE | add-preset NAME: the network part changes live")
      .option("--preset <names>", "with set: presets to merge in")
      .option("--full", "with get: the static sections too"),
  )
    .argument("<action>", "get | set | diff | add-preset")
    .argument("[file-or-preset]")
    .action((a: string, f: string | undefined, o) => run("policy")(o, f === undefined ? [a] : [a, f]));
  json(
    tree
      .command("inference")
      .description("set --provider P --model M [--base-url U] [--credential NAME] [--allow-private] | get")
      .option("--provider <kind>", "with set: see `openclaw nemoclaw inference providers`")
      .option("--model <id>", "with set: the provider's model id")
      .option("--base-url <url>", "with set: instead of the provider's default address")
      .option("--credential <name>", "with set: the stored key to use (default: the provider's kind)")
      .option("--allow-private", "with set: the base URL may be a private or link-local address"),
  )
    .argument("<action>", "set | get")
    .action((a: string, o) => run("inference")(o, [a]));
  if (verb === undefined) {
    tree.outputHelp();
    return;
  }
  try {
    await tree.parseAsync([...words], { from: "user" });
  } catch (e) {
    // commander already printed its message (unknown verb or option, missing argument).
    if ((e as { code?: string }).code?.startsWith("commander.")) {
      if ((e as { code?: string }).code !== "commander.helpDisplayed") process.exitCode = 2;
      return;
    }
    throw e;
  }
  await ran;
}
