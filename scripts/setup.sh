#!/usr/bin/env bash
# The README's first command: set up nemoclaw on this machine for real and show it working.
# Bootstraps (Node 24, deps, Docker, base image), builds and packs the plugin, installs it into
# OpenClaw (yours if `openclaw` is on PATH, else the pinned dev copy), onboards a gateway sandbox
# non-interactively (`openclaw nemoclaw onboard`: a provider key from the environment or an
# Ollama server on this host when there is one, otherwise no model route yet, and it says how to
# add one), starts its gateway on 127.0.0.1 and shows where it runs. No step waits against a
# clock: each one waits for its answer (or for the process it waits on to end).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$NEMOCLAW_ROOT"

step() { printf '\n==> %s\n' "$*"; }
NAME="${NEMOCLAW_NAME:-demo}"

step "Building the plugin"
npm run --silent build

if command -v openclaw >/dev/null 2>&1 && [ "$(command -v openclaw)" != "$NEMOCLAW_ROOT/node_modules/.bin/openclaw" ]; then
  OPENCLAW=(openclaw)
else
  OPENCLAW=("$NEMOCLAW_ROOT/node_modules/.bin/openclaw")
fi
oc="${OPENCLAW[*]}"
step "Installing into OpenClaw ($("${OPENCLAW[@]}" --version))"
tgz="$TOOLS/$(npm pack --silent --pack-destination "$TOOLS" | tail -n 1)"
"${OPENCLAW[@]}" plugins install "$tgz" --force --accept-capabilities
"${OPENCLAW[@]}" config set plugins.entries.nemoclaw.config.baseImage "$NEMOCLAW_BASE_IMAGE"

# Which provider: NEMOCLAW_PROVIDER, else the first key in the environment, else an Ollama
# server answering on this host, else none yet (the sandbox is onboarded all the same).
provider="${NEMOCLAW_PROVIDER:-}"
if [ -z "$provider" ]; then
  for pair in OPENAI_API_KEY:openai ANTHROPIC_API_KEY:anthropic NVIDIA_API_KEY:nvidia GEMINI_API_KEY:gemini; do
    var="${pair%%:*}"
    if [ -n "${!var:-}" ]; then provider="${pair##*:}"; break; fi
  done
fi
if [ -z "$provider" ] && node -e 'fetch("http://127.0.0.1:11434/api/tags",{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))'; then
  provider=ollama
fi
if [ -z "$provider" ]; then
  provider=none
  cat <<TEXT

  No inference provider found (no OPENAI_API_KEY, ANTHROPIC_API_KEY, NVIDIA_API_KEY or
  GEMINI_API_KEY in this shell, no Ollama on 127.0.0.1:11434). Onboarding without a model route;
  the sandbox and its gateway still run. To add one later, any of:
    export OPENAI_API_KEY=…  and run scripts/setup.sh again (or: NEMOCLAW_PROVIDER=anthropic …)
    ollama serve             and run scripts/setup.sh again
    $oc nemoclaw onboard --name $NAME --provider vllm --base-url http://127.0.0.1:8000/v1 --model MODEL
TEXT
fi

step "Onboarding sandbox $NAME (provider: $provider)"
# The gateway's port on this host's loopback: OpenClaw's own 18789, unless something (a host
# gateway?) already listens there; then any free one.
port="${NEMOCLAW_PORT:-}"
if [ -z "$port" ]; then
  if node -e 'require("net").createServer().once("error",()=>process.exit(1)).listen(18789,"127.0.0.1",function(){this.close()})'; then port=18789; else port=0; fi
fi
report="$TOOLS/onboard-$NAME.json"
code=0
"${OPENCLAW[@]}" nemoclaw onboard --non-interactive --json --name "$NAME" --provider "$provider" --port "$port" >"$report" || code=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const s of r.steps ?? []) console.log(`  ${s.status.padEnd(9)} ${s.title}${s.detail ? ": " + s.detail : ""}`);
  if (!r.ok) { console.log(`\n  Error: ${r.error?.message ?? "onboarding failed"}`); if (r.error?.hint) console.log(`  Next: ${r.error.hint}`); }
' "$report"
[ "$code" -eq 0 ] || exit "$code"
url=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const m=(r.steps.find((s)=>s.id==="start")?.detail??"").match(/http:\/\/127\.0\.0\.1:\d+/);console.log(m?m[0]:"")' "$report")
[ -n "$url" ] || { echo "  onboarding did not say where the gateway listens; see $report"; exit 1; }

step "Its gateway, on this host's loopback (relayed into the sandbox)"
node -e 'fetch(process.argv[1]+"/healthz").then(r=>console.log("  "+process.argv[1]+"/healthz answered "+r.status+" from inside the sandbox"),e=>{console.log("  no answer: "+e.message);process.exit(1)})' "$url"

step "Where it runs"
"${OPENCLAW[@]}" nemoclaw "$NAME" status | sed -n '1,12p'
"${OPENCLAW[@]}" nemoclaw "$NAME" exec -- sh -c 'echo "  inside: $(id -un), HOME=$HOME, proxy $HTTPS_PROXY"; for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = openclaw-gatewa ] && echo "  the gateway runs inside: pid ${p#/proc/} ($(tr "\0" " " <"$p/cmdline" | sed "s/ *$//")), uid $(stat -c %u "$p")"; done; touch /etc/escape 2>&1 | sed "s/^/  /" || true'

step "No network but the egress policy"
# The sandbox has no network interface: a direct connection fails at once, nothing is sent.
"${OPENCLAW[@]}" nemoclaw "$NAME" exec -- node -e '
  require("net").connect(443, "192.0.2.1").on("error", (e) => console.log("  direct connection to 192.0.2.1:443:", e.code)).on("connect", () => console.log("  CONNECTED (unexpected)"))'

state="${OPENCLAW_STATE_DIR:-$HOME/.openclaw}/nemoclaw"
token_file="$state/sandboxes/$NAME/gateway.token"
ws="ws://${url#http://}"
if [ "$provider" != none ]; then
  step "One agent turn, from this host's OpenClaw CLI, answered inside the sandbox"
  # The CLI call ends when the turn does: no clock of ours involved.
  OPENCLAW_GATEWAY_URL="$ws" OPENCLAW_GATEWAY_TOKEN="$(cat "$token_file")" \
    "${OPENCLAW[@]}" agent --agent main --session-id "setup-$(date +%s)" -m "Say hello in five words." || echo "  the turn failed: see $oc nemoclaw $NAME logs --inference"
  "${OPENCLAW[@]}" nemoclaw "$NAME" logs --inference --tail 2 2>/dev/null || true
else
  step "No agent turn: no model route yet (see above for how to add one)"
fi

step "Done: the gateway keeps running inside sandbox $NAME on $url"
cat <<TEXT
  Talk to it from this host:   export OPENCLAW_GATEWAY_URL=$ws OPENCLAW_GATEWAY_TOKEN="\$(cat '$token_file')"
                               $oc agent --agent main -m "hello"   |   $oc tui
  Everything at a glance:      $oc nemoclaw status
  \`$oc gateway\` now starts it inside the sandbox; stop it with: $oc nemoclaw stop $NAME
  Re-run onboard any time (it changes only what differs); remove: $oc nemoclaw $NAME destroy --yes
TEXT
