#!/usr/bin/env bash
# fetch-node18.sh [CACHE]: Debian 12's own Node.js 18 (bookworm's nodejs + libnode108, and what
# the system lacks), for running the CLI tests on the supported floor. Nothing is installed
# into the system's dpkg database: a private apt configuration under $CACHE/apt/,
# `apt-get download`, `dpkg-deb -x` into $CACHE/node18/. Prints the path of the wrapper
# $CACHE/node18/node18 (which sets LD_LIBRARY_PATH for libnode) on stdout, progress on stderr.
#
# CACHE defaults to $HOME/.cache/promfile-ci. A second run that finds a working node18 does no
# network access. FORCE=1 refetches. The mirror is the one /etc/apt already uses
# (DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override). This is the Node 18 part of the CI fetch
# script (same cache layout), kept apart so each part runs on its own.
#
# Debian's libnode108 reads three "externalized builtins" (cjs-module-lexer, undici, acorn)
# at startup from the absolute path /usr/share/nodejs/, and aborts when they are missing.
# Rather than put files there, the 18-byte prefix inside the extracted libnode.so.108 is
# rewritten to /tmp/.promfile-18/ (same length), a symlink to $CACHE/node18/usr/share/nodejs
# that this script and the wrapper (re)create.
set -Eeuo pipefail

die() { echo "fetch-node18: error: $*" >&2; exit 1; }
trap 'echo "fetch-node18: error: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR
say() { echo "== $*"; }
exec 3>&1 1>&2 # progress on stderr; the wrapper's path alone on stdout (fd 3)

CACHE=${1:-${HOME:-/tmp}/.cache/promfile-ci}
mkdir -p "$CACHE" || die "cannot create cache directory $CACHE"
CACHE=$(realpath "$CACHE")
FORCE=${FORCE:-0}

NODE18_DIR=$CACHE/node18
NODE18_WRAPPER=$NODE18_DIR/node18
# Same length as "/usr/share/nodejs/" (18 bytes): the binary patch needs that.
OLD_PREFIX=/usr/share/nodejs/
NEW_PREFIX=/tmp/.promfile-18/
BUILTINS_LINK=${NEW_PREFIX%/}
[[ ${#OLD_PREFIX} -eq ${#NEW_PREFIX} ]] || die "internal: prefix lengths differ"

for tool in apt-get apt-cache dpkg-deb dpkg-query dpkg perl flock ldd realpath; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

# One run at a time per cache.
exec 8>"$CACHE/.lock"
flock 8

LOG=$CACHE/last-apt.log
run_logged() { # run_logged WHAT CMD...: quiet unless it fails
  local what=$1; shift
  if ! "$@" >"$LOG" 2>&1; then
    tail -n 25 "$LOG" >&2
    die "$what failed (full log: $LOG)"
  fi
}

# ---------------------------------------------------------------- mirrors
# Every "uri<TAB>suite<TAB>signed-by" the system's apt sources name, from
# one-line (.list) and deb822 (.sources) files; disabled entries skipped.
system_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk '$1 == "deb" {
           opts = ""; i = 2
           if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ }; opts = opts " " $i; i++ }
           sb = ""; if (match(opts, /signed-by=[^] ]+/)) sb = substr(opts, RSTART + 10, RLENGTH - 10)
           print $i "\t" $(i + 1) "\t" sb
         }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk 'function flush(  n, u, s, i, j) {
           if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false)$/) {
             n = split(uris, u, " "); m = split(suites, s, " ")
             for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i] "\t" s[j] "\t" sb
           }
           types = uris = suites = sb = enabled = ""
         }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val) }
         key == "types" { types = val } key == "uris" { uris = val } key == "suites" { suites = val }
         key == "signed-by" { sb = val } key == "enabled" { enabled = tolower(val) }
         END { flush() }' "$f"
  done
}

MAIN_URI='' SEC_URI='' KEYRING=''
pick_mirrors() {
  local uri suite sb
  while IFS=$'\t' read -r uri suite sb; do
    [[ -n $uri ]] || continue
    case $suite in
      *-security) [[ -n $SEC_URI ]] || SEC_URI=$uri ;;
      # Debian's own suites only (not e.g. a third-party "nodistro").
      buster|bullseye|bookworm|trixie|forky|sid|oldoldstable|oldstable|stable|testing|unstable)
         if [[ -z $MAIN_URI && $uri != *security* ]]; then MAIN_URI=$uri; [[ $sb == /* && -r $sb ]] && KEYRING=$sb; fi ;;
      *) ;;
    esac
  done < <(system_sources)
  # Overrides, e.g. to test the failure path: DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR.
  MAIN_URI=${DEBIAN_MIRROR:-$MAIN_URI} SEC_URI=${DEBIAN_SECURITY_MIRROR:-$SEC_URI}
  if [[ -z $MAIN_URI ]]; then
    MAIN_URI=http://deb.debian.org/debian
    echo "   (no Debian source found in /etc/apt, using $MAIN_URI)"
  fi
  MAIN_URI=${MAIN_URI%/}
  [[ -n $SEC_URI ]] || SEC_URI="${MAIN_URI%/debian}/debian-security"
  SEC_URI=${SEC_URI%/}
  if [[ -z $KEYRING ]]; then
    KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
    [[ -r $KEYRING ]] || die "no Debian archive keyring at $KEYRING (package debian-archive-keyring)"
  fi
}

# ------------------------------------------------------ private apt config
# setup_apt NAME SOURCES-LINE... ; sets APT_OPTS for that configuration.
APT_OPTS=()
setup_apt() {
  local name=$1; shift
  local root=$CACHE/apt/$name
  mkdir -p "$root/sourceparts" "$root/preferences.d" "$root/state/lists/partial" \
           "$root/cache/archives/partial" "$root/debs"
  printf '%s\n' "$@" > "$root/sources.list"
  : > "$root/state/status"   # an empty dpkg status: this apt sees nothing installed
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$root/sources.list"
    -o "Dir::Etc::SourceParts=$root/sourceparts"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$root/preferences.d"
    -o "Dir::State=$root/state"
    -o "Dir::State::Lists=$root/state/lists"
    -o "Dir::State::status=$root/state/status"
    -o "Dir::Cache=$root/cache"
    -o "Dir::Cache::Archives=$root/cache/archives"
    -o "Dir::Cache::pkgcache=$root/cache/pkgcache.bin"   # the system turns these off;
    -o "Dir::Cache::srcpkgcache=$root/cache/srcpkgcache.bin" # without, each apt-cache takes 1.5 s
    -o "Acquire::Languages=none"
    -o "APT::Get::List-Cleanup=true"
  )
  [[ $(id -u) -ne 0 ]] || APT_OPTS+=(-o "APT::Sandbox::User=root")
  APT_ROOT=$root
}

apt_update() { # --error-on=any: an unreachable mirror is otherwise only a warning
  run_logged "apt-get update ($1)" apt-get -q "${APT_OPTS[@]}" update --error-on=any
  compgen -G "$APT_ROOT/state/lists/*_Packages*" >/dev/null || die "apt-get update ($1) fetched no package list (log: $LOG)"
}

candidate() { # candidate PKG -> version, or fail
  local v
  v=$(apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
  [[ -n $v && $v != "(none)" ]] || return 1
  echo "$v"
}

# deps PKG -> "name<TAB>op<TAB>version" per Depends/Pre-Depends entry of the
# candidate (the first alternative of each "a | b"; arch qualifiers dropped).
deps() {
  apt-cache "${APT_OPTS[@]}" show --no-all-versions "$1" |
    awk '/^$/ { exit } /^(Pre-)?Depends:/ { sub(/^[^:]*: */, ""); print }' |
    tr ',' '\n' | sed -e 's/|.*//' -e 's/^ *//' -e 's/ *$//' |
    sed -nE 's/^([^ :(]+)(:[a-z0-9]+)? *(\(([<>=]+) *([^)]+)\))?$/\1\t\4\t\5/p'
}

# system_has PKG OP VERSION: the system's dpkg has PKG installed, satisfying it
system_has() {
  local st
  st=$(dpkg-query -W -f='${db:Status-Abbrev}\t${Version}\n' "$1" 2>/dev/null | head -n1) || return 1
  [[ $st == "ii "* ]] || return 1
  [[ -z $2 ]] || dpkg --compare-versions "${st#*$'\t'}" "$2" "$3"
}

download_and_extract() { # download_and_extract DEST PKG...
  local dest=$1; shift
  local debs=$APT_ROOT/debs
  rm -f "$debs"/*.deb
  ( cd "$debs" && run_logged "apt-get download $*" apt-get -q "${APT_OPTS[@]}" download "$@" )
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  local deb
  for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$dest.tmp" || die "dpkg-deb -x $deb failed"
    printf '%s\t%s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" >> "$dest.tmp/.packages"
  done
  rm -rf "$dest"; mv "$dest.tmp" "$dest"
  # Only the extracted trees are needed from here on: drop the .debs and
  # apt's binary caches (~100 MB), keep the lists.
  rm -f "$debs"/*.deb "$APT_ROOT"/cache/*.bin
}

# ------------------------------------------------------------------ checks
NODE18_VERSION=''
node18_ok() {
  [[ -x $NODE18_WRAPPER ]] || return 1
  # -e loads the builtins libnode reads from disk; --version alone does not.
  NODE18_VERSION=$("$NODE18_WRAPPER" -e 'process.stdout.write(process.version)' 2>/dev/null) || return 1
  [[ $NODE18_VERSION == v18.* ]]
}

write_wrapper() {
  local libdir=$1
  cat > "$NODE18_WRAPPER" <<EOF
#!/bin/sh
# Node.js 18 from Debian bookworm, extracted by fetch-binaries.sh.
d=\$(dirname "\$(readlink -f "\$0")")
link=$BUILTINS_LINK
# libnode reads cjs-module-lexer, undici and acorn from \$link/ at startup.
if [ "\$(readlink "\$link" 2>/dev/null)" != "\$d/usr/share/nodejs" ]; then
  # A rename, so a concurrent node18 never sees the link missing.
  if ! { ln -s "\$d/usr/share/nodejs" "\$link.\$\$" && mv -fT "\$link.\$\$" "\$link"; }; then
    rm -f "\$link.\$\$"; echo "node18: cannot point \$link at \$d/usr/share/nodejs" >&2; exit 127
  fi
fi
LD_LIBRARY_PATH="\$d/$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "\$d/usr/bin/node" "\$@"
EOF
  chmod 755 "$NODE18_WRAPPER"
}

# ------------------------------------------------------------ node18 part
fetch_node18() {
  say "bookworm: private apt config ($MAIN_URI bookworm{,-updates}, $SEC_URI bookworm-security)"
  setup_apt bookworm \
    "deb [signed-by=$KEYRING] $MAIN_URI bookworm main" \
    "deb [signed-by=$KEYRING] $MAIN_URI bookworm-updates main" \
    "deb [signed-by=$KEYRING] $SEC_URI bookworm-security main"
  say "bookworm: apt-get update"
  apt_update bookworm
  local v
  v=$(candidate nodejs) || die "bookworm has no nodejs package"
  [[ $v == 18.* ]] || die "bookworm's nodejs is $v, not 18.x"
  echo "   nodejs $v"
  # nodejs + libnode108, the packages whose files libnode reads at startup,
  # and every shared-library dependency (recursively) the system lacks.
  local want=(nodejs libnode108 node-cjs-module-lexer node-undici node-acorn)
  local queue=(nodejs libnode108) seen=" nodejs libnode108 " p name op ver
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    while IFS=$'\t' read -r name op ver; do
      [[ $name == lib* && $seen != *" $name "* ]] || continue
      seen+="$name "
      system_has "$name" "$op" "$ver" && continue
      candidate "$name" >/dev/null || die "bookworm has no package $name (needed by $p)"
      echo "   system lacks $name ${op:+($op $ver)}: fetching it"
      want+=("$name"); queue+=("$name")
    done < <(deps "$p")
  done
  say "bookworm: download + extract into $NODE18_DIR (${want[*]})"
  download_and_extract "$NODE18_DIR" "${want[@]}"

  local lib libdir
  lib=$(find "$NODE18_DIR/usr/lib" -name 'libnode.so.108' -type f | head -n1)
  [[ -n $lib ]] || die "libnode108 did not contain libnode.so.108"
  libdir=$(dirname "${lib#"$NODE18_DIR"/}")
  for f in cjs-module-lexer/lexer.js cjs-module-lexer/dist/lexer.js undici/undici-fetch.js \
           acorn/dist/acorn.js acorn-walk/dist/walk.js; do
    [[ -f $NODE18_DIR/usr/share/nodejs/$f ]] || die "missing usr/share/nodejs/$f in the extracted packages"
  done

  say "node18: point libnode's builtin path $OLD_PREFIX at $NEW_PREFIX"
  perl -0777 -pi -e "s{\Q$OLD_PREFIX\E}{$NEW_PREFIX}g" "$lib"
  ! LC_ALL=C grep -aq "$OLD_PREFIX" "$lib" || die "patching $lib failed"
  LC_ALL=C grep -aq "${NEW_PREFIX}cjs-module-lexer/lexer.js" "$lib" || die "patching $lib failed (no builtin path found)"

  write_wrapper "$libdir"
  local missing
  missing=$(LD_LIBRARY_PATH="$NODE18_DIR/$libdir" ldd "$NODE18_DIR/usr/bin/node" "$lib" | awk '/not found/ { print $1 }' | sort -u)
  [[ -z $missing ]] || die "node18 still lacks shared libraries: ${missing//$'\n'/ }"
  node18_ok || die "node18 does not run: try $NODE18_WRAPPER -e 1"
}

# -------------------------------------------------------------------- main
if [[ $FORCE == 1 ]] || ! node18_ok; then
  pick_mirrors
  fetch_node18
else
  say "node18: already in $NODE18_DIR"
fi
say "node18: $("$NODE18_WRAPPER" --version)"
echo "$NODE18_WRAPPER" >&3
