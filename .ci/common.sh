# Sourced by the .ci/fetch-*.sh scripts (after `set -Eeuo pipefail`, with the
# script's own arguments): what they share. CACHE is the first argument, else
# $PROMFILE_CI_CACHE, else $HOME/.cache/promfile-ci; LOG is set by the script.

SCRIPT=$(basename "$0" .sh)
die() { echo "$SCRIPT: error: $*" >&2; exit 1; }
trap 'echo "$SCRIPT: error: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

CACHE=${1:-${PROMFILE_CI_CACHE:-${HOME:-/tmp}/.cache/promfile-ci}}
mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
CACHE=$(realpath "$CACHE")

# The first Debian mirror /etc/apt names (one-line or deb822 sources).
system_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] && awk 'tolower($1) == "uris:" { print $2 }' "$f"
  done
}

# quiet WHAT CMD...: silent unless it fails (its output is appended to $LOG).
quiet() {
  local what=$1; shift
  "$@" >>"$LOG" 2>&1 || { tail -n 25 "$LOG" >&2; die "$what failed (log: $LOG)"; }
}
