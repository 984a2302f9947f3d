#!/usr/bin/env bash
# fetch-bookworm-root.sh [CACHE]
#
# Builds a Debian 12 (bookworm) root for the systemd container tests
# (test/e2e/systemd-container.test.ts) in $CACHE/bookworm-root:
#   debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm DIR MIRROR
# then, inside it (systemd-nspawn, not booted), bookworm's own packages the
# tests use: nodejs (Debian 12's Node 18, the shipping floor, runs the .deb),
# prometheus-node-exporter and prometheus-node-exporter-collectors (the
# collector units the docs' drop-in replaces), curl (scrapes node_exporter on
# the container's own loopback). The tests boot it read-only with a tmpfs
# overlay (systemd-nspawn --volatile=overlay), so the cache stays clean.
#
# Prints the root's path on stdout; everything else goes to a log, shown only
# on failure. CACHE defaults to $PROMFILE_CI_CACHE, else
# $HOME/.cache/promfile-ci. A run that finds a complete root (its stamp names
# the same package list) touches no network. FORCE=1 rebuilds.
# DEBIAN_MIRROR overrides the mirror (default: the one /etc/apt uses).
set -Eeuo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
DEST=$CACHE/bookworm-root
LOG=$CACHE/fetch-bookworm-root.log
INCLUDE=systemd,systemd-sysv,dbus
PACKAGES=(nodejs prometheus-node-exporter prometheus-node-exporter-collectors curl)
# The stamp names what the root holds: a change here rebuilds it.
STAMP_TEXT="bookworm minbase $INCLUDE ${PACKAGES[*]} v1"

[[ $(id -u) -eq 0 ]] || die "debootstrap and systemd-nspawn need root"
for tool in debootstrap systemd-nspawn flock realpath; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap systemd-container)"
done
exec 9>"$CACHE/.bookworm-root.lock" # one build at a time per cache
flock 9

complete() {
  [[ -f $DEST/.promfile-root && $(cat "$DEST/.promfile-root") == "$STAMP_TEXT" ]] || return 1
  [[ -x $DEST/usr/bin/node && -x $DEST/usr/bin/prometheus-node-exporter && -x $DEST/lib/systemd/systemd ]]
}

build() {
  local mirror tmp=$DEST.tmp
  mirror=${DEBIAN_MIRROR:-$(system_mirror | grep -v security | head -n1)}
  mirror=${mirror:-http://deb.debian.org/debian}
  : >"$LOG"
  rm -rf "$tmp"
  echo "== bookworm root: debootstrap --variant=minbase --include=$INCLUDE (${mirror%/})" >&2
  quiet debootstrap debootstrap --variant=minbase --include="$INCLUDE" bookworm "$tmp" "${mirror%/}"
  echo "== bookworm root: apt-get install ${PACKAGES[*]}" >&2
  # Not booted: nothing starts; the units the packages enable start when a test boots the root.
  quiet "apt-get install" systemd-nspawn -q -D "$tmp" --register=no --keep-unit -E DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get -q update && apt-get -q install -y --no-install-recommends ${PACKAGES[*]} && apt-get clean"
  # A machine id, so that journald and the units that key on it start alike in every boot.
  systemd-machine-id-setup --root="$tmp" >>"$LOG" 2>&1 || true
  echo "$STAMP_TEXT" >"$tmp/.promfile-root"
  rm -rf "$DEST" && mv "$tmp" "$DEST"
}

if [[ ${FORCE:-0} == 1 ]] || ! complete; then
  build
  complete || die "the root in $DEST is incomplete (log: $LOG)"
fi
echo "$DEST"
