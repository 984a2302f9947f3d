#!/usr/bin/env bash
# fetch-node-exporter.sh [CACHE]
#
# Fetches node_exporter 1.9 and promtool from Debian 13 (trixie) into
# $CACHE/trixie/, and node_exporter 1.11 from Debian unstable (sid) into
# $CACHE/sid/, without installing anything into the system's dpkg database:
# per suite a private apt configuration (own sources list naming "SUITE main",
# own lists, empty status, own archive cache under $CACHE/apt/SUITE), then
# `apt-get download` and `dpkg-deb -x`. They are Go binaries that link only
# libc (node_exporter 1.11.1 needs GLIBC_2.34 at most), so they run on Debian
# 12 (glibc 2.36). Writes $CACHE/node-exporter.env (source it), which exports
# PROMFILE_TEST_NODE_EXPORTERS (colon-separated paths) for the end-to-end tests.
#
# CACHE defaults to $PROMFILE_CI_CACHE, else $HOME/.cache/promfile-ci. A run
# that finds working binaries touches no network. FORCE=1 refetches.
# DEBIAN_MIRROR overrides the mirror (default: the one /etc/apt uses).
set -Eeuo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
LOG=$CACHE/fetch-node-exporter.log

for tool in apt-get apt-cache dpkg-deb flock realpath; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
exec 8>"$CACHE/.lock" # one fetch at a time per cache
flock 8

# works SUITE MINOR [TOOL...]: the suite's node_exporter reports MINOR.x and each tool runs.
works() {
  local dest=$CACHE/$1 minor=$2 tool
  shift 2
  [[ -x $dest/usr/bin/prometheus-node-exporter ]] || return 1
  "$dest/usr/bin/prometheus-node-exporter" --version 2>&1 | grep -q "^node_exporter, version ${minor//./\\.}\\." || return 1
  for tool in "$@"; do "$dest/usr/bin/$tool" --version >/dev/null 2>&1 || return 1; done
}

# fetch SUITE MINOR PACKAGE...: extract the suite's packages into $CACHE/SUITE, node_exporter MINOR.x.
fetch() {
  local suite=$1 minor=$2
  shift 2
  local packages=("$@") root=$CACHE/apt/$suite dest=$CACHE/$suite
  local mirror keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  mirror=${DEBIAN_MIRROR:-$(system_mirror | grep -v security | head -n1)}
  mirror=${mirror:-http://deb.debian.org/debian}
  [[ -r $keyring ]] || die "no Debian archive keyring at $keyring (package debian-archive-keyring)"
: >"$LOG"
  mkdir -p "$root/sourceparts" "$root/preferences.d" "$root/state/lists/partial" "$root/cache/archives/partial" "$root/debs"
  echo "deb [signed-by=$keyring] ${mirror%/} $suite main" >"$root/sources.list"
  : >"$root/state/status" # this apt sees nothing installed, and installs nothing
  local opts=(
    -o "Dir::Etc::SourceList=$root/sources.list" -o "Dir::Etc::SourceParts=$root/sourceparts"
    -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$root/preferences.d"
    -o "Dir::State=$root/state" -o "Dir::State::Lists=$root/state/lists" -o "Dir::State::status=$root/state/status"
    -o "Dir::Cache=$root/cache" -o "Dir::Cache::Archives=$root/cache/archives"
    -o "Acquire::Languages=none"
  )
  [[ $(id -u) -ne 0 ]] || opts+=(-o "APT::Sandbox::User=root")
  echo "== $suite: apt-get update (${mirror%/} $suite main, private configuration)"
  quiet "apt-get update ($suite)" apt-get -q "${opts[@]}" update --error-on=any
  local version
  version=$(apt-cache "${opts[@]}" policy prometheus-node-exporter | awk '$1 == "Candidate:" { print $2 }')
  [[ $version == "$minor".* ]] || die "$suite's prometheus-node-exporter is '${version:-none}', not $minor.x"
  echo "== $suite: apt-get download ${packages[*]} (node_exporter $version)"
  rm -f "$root/debs"/*.deb
  (cd "$root/debs" && quiet "apt-get download ($suite)" apt-get -q "${opts[@]}" download "${packages[@]}")
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  local deb
  for deb in "$root/debs"/*.deb; do dpkg-deb -x "$deb" "$dest.tmp" || die "dpkg-deb -x $deb failed"; done
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -f "$root/debs"/*.deb
}

# need SUITE MINOR PACKAGE... (the packages' binaries besides node_exporter are checked too)
need() {
  local suite=$1 minor=$2 tools=("${@:4}")
  if [[ ${FORCE:-0} == 1 ]] || ! works "$suite" "$minor" "${tools[@]}"; then
    fetch "$@"
    works "$suite" "$minor" "${tools[@]}" ||
      die "the binaries extracted from $suite do not run (try: $CACHE/$suite/usr/bin/prometheus-node-exporter --version)"
  fi
  echo "== $("$CACHE/$suite/usr/bin/prometheus-node-exporter" --version 2>&1 | head -n1) in $CACHE/$suite"
}

# trixie ships promtool as its own package (bookworm has it inside "prometheus").
need trixie 1.9 prometheus-node-exporter promtool
# sid's node_exporter; when sid moves past 1.11, this fails: add a profile for the new version first.
need sid 1.11 prometheus-node-exporter

printf 'export PROMFILE_TEST_NODE_EXPORTERS=%q\n' \
  "$CACHE/trixie/usr/bin/prometheus-node-exporter:$CACHE/sid/usr/bin/prometheus-node-exporter" >"$CACHE/node-exporter.env"
echo "== wrote $CACHE/node-exporter.env"
