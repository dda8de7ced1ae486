#!/usr/bin/env bash
# Debian packages kpitools needs outside Python, checked (and installed as root) by `make`
# before anything runs: never from inside a test, never twice at once (flock).
#
#   tools/system-deps.sh report   what a review render needs (WeasyPrint's Pango, fonts)
#   tools/system-deps.sh test     everything `make test` needs (also Chromium, poppler, Java)
#
# Exit 0 when everything is there (after installing what was missing), 1 with a message naming
# the missing packages when they cannot be installed (not root, or no apt-get).
set -euo pipefail
need="${1:-test}"

# check command | Debian package
checks_report=(
  "fc-list 'DejaVu Sans' | grep -q .|fonts-dejavu-core"
  "ldconfig -p | grep -q libpango-1.0.so|libpango-1.0-0"
  "ldconfig -p | grep -q libpangoft2-1.0.so|libpangoft2-1.0-0"
)
checks_test=(
  "command -v chromium|chromium"
  "command -v pdftoppm|poppler-utils"
  "command -v java|openjdk-17-jre-headless"
)
checks=("${checks_report[@]}")
if [ "$need" = "test" ]; then checks+=("${checks_test[@]}"); fi

missing=()
for entry in "${checks[@]}"; do
  test_cmd="${entry%|*}"; package="${entry##*|}"
  if ! bash -c "$test_cmd" >/dev/null 2>&1; then missing+=("$package"); fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "       install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]}) and run make again" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}" >&2
exec 9>/tmp/kpitools-apt.lock
flock 9
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
  echo "error: apt-get could not install: ${missing[*]}" >&2
  exit 1
fi
