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
"${OPENCLAW[@]}" nemoclaw onboard --non-interactive --name "$NAME" --provider "$provider"

step "Starting its gateway on the host's loopback (relayed into the sandbox)"
log="$TOOLS/gateway-$NAME.log"
: >"$log"
# OPENCLAW_NO_RESPAWN: our SIGTERM at the end reaches the verb, which stops the sandbox cleanly.
OPENCLAW_NO_RESPAWN=1 "${OPENCLAW[@]}" nemoclaw "$NAME" gateway --port 0 >"$log" 2>&1 &
gw=$!
url=""
# Wait for the verb to print its address, or to end (then its log says why): no clock involved.
while [ -z "$url" ] && kill -0 "$gw" 2>/dev/null; do
  url=$(sed -n 's/.*gateway of sandbox [^ ]* on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$url" ] || sleep 1
done
if [ -z "$url" ]; then
  echo "  the gateway verb ended before it was ready:"; tail -n 20 "$log"; exit 1
fi
# onboard's health check already saw the gateway ready; this asks again through the host relay.
node -e 'fetch(process.argv[1]+"/healthz").then(async r=>console.log("  "+process.argv[1]+"/healthz answered "+r.status+" from inside the sandbox"),e=>{console.log("  no answer: "+e.message);process.exit(1)})' "$url"

step "Where it runs"
"${OPENCLAW[@]}" nemoclaw "$NAME" status | sed -n '1,12p'
"${OPENCLAW[@]}" nemoclaw "$NAME" exec -- sh -c 'echo "  inside: $(id -un), HOME=$HOME, proxy $HTTPS_PROXY"; for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = openclaw-gatewa ] && echo "  the gateway runs inside: pid ${p#/proc/} ($(tr "\0" " " <"$p/cmdline" | sed "s/ *$//")), uid $(stat -c %u "$p")"; done; touch /etc/escape 2>&1 | sed "s/^/  /" || true'

step "No network but the egress policy"
# The sandbox has no network interface: a direct connection fails at once, nothing is sent.
"${OPENCLAW[@]}" nemoclaw "$NAME" exec -- node -e '
  require("net").connect(443, "192.0.2.1").on("error", (e) => console.log("  direct connection to 192.0.2.1:443:", e.code)).on("connect", () => console.log("  CONNECTED (unexpected)"))'
"${OPENCLAW[@]}" nemoclaw "$NAME" logs --egress --tail 3 || true

step "Stopping the sandbox (its gateway verb then exits with the sandbox's code)"
"${OPENCLAW[@]}" nemoclaw "$NAME" stop
code=0
wait "$gw" || code=$?
echo "  the gateway verb exited with $code"

step "Done. Start it again: $oc nemoclaw $NAME gateway   (then http://127.0.0.1:18789)"
echo "  More: $oc nemoclaw --help; re-run onboard any time (it changes only what differs); remove: $oc nemoclaw $NAME destroy --yes"
