#!/usr/bin/env bash
# fetch-node-exporter.sh [CACHE]
#
# Fetches Debian 13 (trixie)'s node_exporter 1.9 and promtool into
# $CACHE/trixie/ without installing anything into the system's dpkg database:
# a private apt configuration (own sources list naming "trixie main", own
# lists, empty status, own archive cache under $CACHE/apt/trixie), then
# `apt-get download` and `dpkg-deb -x`. Both are static Go binaries, so they
# run on Debian 12. Writes $CACHE/node-exporter.env (source it), which exports
# PROMFILE_TEST_NODE_EXPORTERS for the end-to-end tests.
#
# CACHE defaults to $PROMFILE_CI_CACHE, else $HOME/.cache/promfile-ci. A run
# that finds working binaries touches no network. FORCE=1 refetches.
# DEBIAN_MIRROR overrides the mirror (default: the one /etc/apt uses).
set -Eeuo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
DEST=$CACHE/trixie
NE_BIN=$DEST/usr/bin/prometheus-node-exporter
PROMTOOL_BIN=$DEST/usr/bin/promtool
ROOT=$CACHE/apt/trixie
LOG=$CACHE/fetch-node-exporter.log

for tool in apt-get apt-cache dpkg-deb flock realpath; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
exec 8>"$CACHE/.lock" # one fetch at a time per cache
flock 8

works() {
  [[ -x $NE_BIN && -x $PROMTOOL_BIN ]] || return 1
  "$NE_BIN" --version 2>&1 | grep -q '^node_exporter, version 1\.9\.' || return 1
  "$PROMTOOL_BIN" --version >/dev/null 2>&1
}

fetch() {
  local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=${DEBIAN_MIRROR:-$(system_mirror | grep -v security | head -n1)}
  mirror=${mirror:-http://deb.debian.org/debian}
  [[ -r $keyring ]] || die "no Debian archive keyring at $keyring (package debian-archive-keyring)"
  : >"$LOG"
  mkdir -p "$ROOT/sourceparts" "$ROOT/preferences.d" "$ROOT/state/lists/partial" "$ROOT/cache/archives/partial" "$ROOT/debs"
  echo "deb [signed-by=$keyring] ${mirror%/} trixie main" >"$ROOT/sources.list"
  : >"$ROOT/state/status" # this apt sees nothing installed, and installs nothing
  local opts=(
    -o "Dir::Etc::SourceList=$ROOT/sources.list" -o "Dir::Etc::SourceParts=$ROOT/sourceparts"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$ROOT/preferences.d"
    -o "Dir::State=$ROOT/state" -o "Dir::State::Lists=$ROOT/state/lists" -o "Dir::State::status=$ROOT/state/status"
    -o "Dir::Cache=$ROOT/cache" -o "Dir::Cache::Archives=$ROOT/cache/archives"
    -o "Acquire::Languages=none"
  )
  [[ $(id -u) -ne 0 ]] || opts+=(-o "APT::Sandbox::User=root")
  echo "== trixie: apt-get update (${mirror%/} trixie main, private configuration)"
  quiet "apt-get update" apt-get -q "${opts[@]}" update --error-on=any
  # trixie ships promtool as its own package (bookworm has it inside "prometheus").
  local packages=(prometheus-node-exporter promtool) version
  version=$(apt-cache "${opts[@]}" policy prometheus-node-exporter | awk '$1 == "Candidate:" { print $2 }')
  [[ $version == 1.9.* ]] || die "trixie's prometheus-node-exporter is '${version:-none}', not 1.9.x"
  echo "== trixie: apt-get download ${packages[*]} (node_exporter $version)"
  rm -f "$ROOT/debs"/*.deb
  (cd "$ROOT/debs" && quiet "apt-get download" apt-get -q "${opts[@]}" download "${packages[@]}")
  rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp"
  local deb
  for deb in "$ROOT/debs"/*.deb; do dpkg-deb -x "$deb" "$DEST.tmp" || die "dpkg-deb -x $deb failed"; done
  rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
  rm -f "$ROOT/debs"/*.deb
}

if [[ ${FORCE:-0} == 1 ]] || ! works; then
  fetch
  works || die "the extracted binaries do not run (try: $NE_BIN --version)"
fi
printf 'export PROMFILE_TEST_NODE_EXPORTERS=%q\n' "$NE_BIN" >"$CACHE/node-exporter.env"
echo "== $("$NE_BIN" --version 2>&1 | head -n1) in $DEST; wrote $CACHE/node-exporter.env"
