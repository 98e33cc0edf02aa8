#!/usr/bin/env bash
# Makes sure the system tools that `npm test` needs are installed (npm runs this as `pretest`):
# the linter ShellCheck, which test/scripts runs on every scripts/*.sh; Chromium, which
# test/e2e/portal-browser.test.ts drives through playwright-core; and nginx, which
# test/e2e/gateway.test.ts runs with the gateway's own configuration (deploy/nginx/).
# Both come from Debian's packages, not npm (playwright's own browser download cannot work
# here). Idempotent: with both present it only checks. As root it installs what is missing
# (apt-get update once, then apt-get install); otherwise it prints the command and exits 1.
#
# With WARREN_IMAGE_TEST=1 (or CI set and WARREN_IMAGE_TEST not 0) it also wants what
# test/images/images.test.ts needs: dockerd (docker.io) and debootstrap. Those are optional:
# when they cannot be installed (not root, offline) it warns and that test skips itself.
# Installing docker.io or nginx never starts the machine's service of that name (policy-rc.d).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/ensure-system-tools.sh [--check]

Checks that shellcheck, chromium and nginx are installed; installs the missing ones with apt-get
when run as root (Debian/Ubuntu). With WARREN_IMAGE_TEST=1 (or CI), also dockerd and
debootstrap for the image test, without failing when they cannot be installed.

  --check   only check: exit 1 and print what to install when something is missing
  --help    show this help
USAGE
}

check_only=false
case "${1:-}" in
  '') ;;
  --check) check_only=true ;;
  -h | --help) usage; exit 0 ;;
  *) echo "ensure-system-tools: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

# command → Debian package(s). Chromium draws its text with fonts-dejavu-core (with
# --no-install-recommends it would otherwise come without any font).
declare -A packages=([shellcheck]=shellcheck [chromium]='chromium fonts-dejavu-core'
  [nginx]=nginx-light [dockerd]=docker.io [debootstrap]=debootstrap)

# apt-get install, with a policy-rc.d that refuses while it runs (when the machine has none), so
# a package's install script never starts its daemon (dockerd, nginx on port 80) here.
apt_install() {
  local policy=/usr/sbin/policy-rc.d added_policy=false status=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && added_policy=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  if $added_policy; then rm -f "$policy"; fi
  return "$status"
}

image_test_wanted() {
  case "${WARREN_IMAGE_TEST:-}" in
    1) return 0 ;;
    0) return 1 ;;
    *) [[ -n "${CI:-}" ]] ;;
  esac
}

# The image test's tools: best effort, never a reason for `npm test` to stop.
ensure_image_tools() {
  local missing=() to_install=() pkgs tool
  for tool in dockerd debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  for tool in "${missing[@]}"; do
    read -r -a pkgs <<<"${packages[$tool]}"
    to_install+=("${pkgs[@]}")
  done
  if $check_only || [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-system-tools: the image test needs ${missing[*]} (apt-get install ${to_install[*]}); it will skip" >&2
    return 0
  fi
  echo "ensure-system-tools: installing ${to_install[*]} for the image test" >&2
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt_install "${to_install[@]}"; }; then
    echo "ensure-system-tools: could not install ${to_install[*]}; the image test will skip" >&2
  fi
  return 0
}
if image_test_wanted; then ensure_image_tools; fi

missing=()
for tool in shellcheck chromium nginx; do
  # nginx lives in /usr/sbin, which a user's PATH may not hold.
  command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

to_install=()
for tool in "${missing[@]}"; do
  read -r -a pkgs <<<"${packages[$tool]}"
  to_install+=("${pkgs[@]}")
done
command_line="apt-get install -y --no-install-recommends ${to_install[*]}"

if $check_only || [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-tools: missing ${missing[*]}; install with:" >&2
  echo "  sudo apt-get update && sudo $command_line" >&2
  exit 1
fi

echo "ensure-system-tools: installing ${to_install[*]} (missing: ${missing[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt_install "${to_install[@]}"
for tool in "${missing[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || { echo "ensure-system-tools: $tool still missing after install" >&2; exit 1; }
done
echo "ensure-system-tools: installed ${to_install[*]}" >&2
