#!/usr/bin/env bash
# The workshop's one package installer, in bash: a bare Debian has no python3 yet. ./workshop,
# tools/*.py, the Dockerfile and CI's bare Debian roots all install through it.
#   tools/install.sh [--why TEXT] WHAT...   installs whichever are missing, saying which and why
#   tools/install.sh --list WHAT...         prints the packages instead
# WHAT is a "needed by" word of tools/requirements.txt (tools, build, run...), standing for its
# packages on this Debian release, or a package's own name. apt-get runs through sudo if not root.
set -euo pipefail
REQUIREMENTS="$(dirname "${BASH_SOURCE[0]}")/requirements.txt"

# NAME@bookworm is for Debian 12 only, NAME@trixie for Debian 13 and anything newer.
release=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || release=""
for_this_release() {
  case "$1" in
    *@bookworm) [ "$release" = bookworm ] ;;
    *@trixie) [ "$release" != bookworm ] ;;
    *) true ;;
  esac
}

# packages WHAT...: the package names WHAT stands for on this release, one per line
packages() {
  local what package need listed
  for what in "$@"; do
    listed=()
    while read -r package _ need _; do
      if [[ $package != "#"* && $need == "$what" ]]; then listed+=("$package"); fi
    done <"$REQUIREMENTS"
    for package in "${listed[@]:-$what}"; do
      if for_this_release "$package"; then echo "${package%@*}"; fi
    done
  done
}

why="what the workshop needs"
case "${1:-}" in
  --list) shift; packages "$@"; exit 0 ;;
  --why) why=${2:?--why needs a text}; shift 2 ;;
  -*) echo "usage: tools/install.sh [--why TEXT | --list] WHAT..." >&2; exit 2 ;;
esac
mapfile -t wanted < <(packages "$@")
[ ${#wanted[@]} -gt 0 ] || exit 0
# The packages dpkg does not have installed yet
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${wanted[@]}" 2>/dev/null |
            sed -n 's/^ii *//p' || true)
mapfile -t absent < <(printf '%s\n' "${wanted[@]}" | grep -vxF -e "$installed")
[ ${#absent[@]} -gt 0 ] || exit 0

if [ -t 2 ]; then printf '\033[1m==> installing %s (%s)\033[0m\n' "${absent[*]}" "$why" >&2
else printf '==> installing %s (%s)\n' "${absent[*]}" "$why" >&2; fi
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${absent[@]}" >/dev/null
