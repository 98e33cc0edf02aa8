#!/usr/bin/env bash
# Copies the portals' shared code, s3-layout/dev/base/, into every qa portal as shared/
# (s3-layout/qa/<portal>_QA/shared/). The bucket has no qa base folder, and qa portals must not
# load dev's /base/ (a dev publish would change what QA is testing), so each carries a copy.
# The copies are build output, git-ignored: scripts/s3-sync.sh qa makes them right before it
# publishes, so the shared code has one home (dev/base) and the qa copy is always current.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/sync-portal-base.sh [--check]

Copies s3-layout/dev/base/ to s3-layout/qa/*_QA/shared/ (replacing what is there).

  --check   change nothing; exit 1 and name each qa portal whose shared/ differs from dev/base
  --help    show this help
USAGE
}

check=false
case "${1:-}" in
  '') ;;
  --check) check=true ;;
  -h | --help) usage; exit 0 ;;
  *) echo "sync-portal-base: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="$root/s3-layout/dev/base"
[[ -d "$base" ]] || { echo "sync-portal-base: $base is missing" >&2; exit 1; }

portals=()
for dir in "$root"/s3-layout/qa/*_QA; do
  [[ -d "$dir" ]] && portals+=("$dir")
done
[[ ${#portals[@]} -gt 0 ]] || { echo "sync-portal-base: no qa portal under s3-layout/qa" >&2; exit 1; }

status=0
for dir in "${portals[@]}"; do
  name="qa/$(basename "$dir")"
  if $check; then
    if ! diff -r "$base" "$dir/shared" >/dev/null 2>&1; then
      echo "sync-portal-base: $name/shared differs from dev/base (run scripts/sync-portal-base.sh)" >&2
      status=1
    fi
  else
    rm -rf "$dir/shared"
    cp -R "$base" "$dir/shared"
    echo "sync-portal-base: dev/base -> $name/shared"
  fi
done
exit "$status"
