#!/usr/bin/env bash
# The README's first command: set up nemoclaw on this machine for real and show it working.
# Bootstraps (Node 24, deps, Docker, base image), builds and packs the plugin, installs it into
# OpenClaw (yours if `openclaw` is on PATH, else the pinned dev copy), then runs the preflight,
# checks the shipped policy, lists the presets, and creates (or starts) a sandbox named `demo`
# and shows what is in force inside it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$NEMOCLAW_ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "Building the plugin"
npm run --silent build

if command -v openclaw >/dev/null 2>&1 && [ "$(command -v openclaw)" != "$NEMOCLAW_ROOT/node_modules/.bin/openclaw" ]; then
  OPENCLAW=(openclaw)
else
  OPENCLAW=("$NEMOCLAW_ROOT/node_modules/.bin/openclaw")
fi
step "Installing into OpenClaw ($("${OPENCLAW[@]}" --version))"
tgz="$TOOLS/$(npm pack --silent --pack-destination "$TOOLS" | tail -n 1)"
"${OPENCLAW[@]}" plugins install "$tgz" --force --accept-capabilities
"${OPENCLAW[@]}" config set plugins.entries.nemoclaw.config.baseImage "$NEMOCLAW_BASE_IMAGE"

step "Preflight"
"${OPENCLAW[@]}" nemoclaw doctor || true

step "Blueprint"
"${OPENCLAW[@]}" nemoclaw blueprint verify

step "Policy"
"${OPENCLAW[@]}" nemoclaw policy check policies/openclaw-sandbox.yaml --preset npm,github
"${OPENCLAW[@]}" nemoclaw policy presets

step "A sandbox (demo)"
if "${OPENCLAW[@]}" nemoclaw sandbox list --json | grep -q '"name": "demo"'; then
  "${OPENCLAW[@]}" nemoclaw demo start
else
  "${OPENCLAW[@]}" nemoclaw sandbox create demo
fi
"${OPENCLAW[@]}" nemoclaw demo status
"${OPENCLAW[@]}" nemoclaw demo exec -- sh -c 'echo "inside: $(id -un), HOME=$HOME, proxy $HTTPS_PROXY"; touch /etc/escape 2>&1 || true'

step "Egress: default deny, held for the operator"
# A destination no policy names is held (nothing leaves, not even a DNS lookup) until someone
# decides, or until the approval times out (60 s): either way the request ends refused, so this
# step does not depend on how fast the CLI answers on this machine.
"${OPENCLAW[@]}" nemoclaw demo exec -- node -e '
  fetch("https://example.com/", { signal: AbortSignal.timeout(180000) })
    .then((r) => console.log("inside: example.com answered", r.status), (e) => console.log("inside: example.com refused:", e.cause?.message ?? e.message))' &
held=$!
pending() {
  "${OPENCLAW[@]}" nemoclaw approvals --sandbox demo --json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const a = JSON.parse(s).approvals.find((x) => x.host === "example.com");
      if (a) { console.error(`  held: ${a.id} ${a.binary} -> ${a.host}:${a.port} (expires ${a.expiresAt})`); process.stdout.write(a.id); }
    })'
}
id=""
while [ -z "$id" ] && kill -0 "$held" 2>/dev/null; do id=$(pending); done
if [ -n "$id" ]; then
  "${OPENCLAW[@]}" nemoclaw deny "$id" || echo "  (the approval timed out before the deny arrived: the request is refused all the same)"
fi
wait "$held" || true
"${OPENCLAW[@]}" nemoclaw demo logs --egress --tail 3

oc="${OPENCLAW[*]}"
step "Done. Try: $oc nemoclaw --help, $oc nemoclaw demo connect; remove it with $oc nemoclaw demo destroy --yes"
