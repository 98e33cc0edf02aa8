#!/usr/bin/env bash
# Publishes one partition's portals to S3 with `aws s3 sync --delete`: exactly that
# partition's folders of s3-layout/, each to the folder of the same name in the bucket.
#
#   dev: s3-layout/dev/{base,admin,manager,employee}  → s3://$S3_BUCKET/{base,admin,manager,employee}
#   qa:  s3-layout/qa/{admin_QA,manager_QA,employee_QA} → s3://$S3_BUCKET/{admin_QA,manager_QA,employee_QA}
#
# --delete makes each bucket folder an exact copy, so a missing or empty local folder is
# refused rather than synced (it would empty the bucket folder). Files are uploaded with
# Cache-Control: no-cache: browsers revalidate (a cheap 304), so a new config.js or page is
# seen at once after a publish.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: S3_BUCKET=<bucket> scripts/s3-sync.sh dev|qa [--dry-run]

Syncs the partition's portal folders from s3-layout/ to s3://$S3_BUCKET/<folder>, deleting
what the repository no longer has.

  dev        base, admin, manager, employee (from s3-layout/dev/)
  qa         admin_QA, manager_QA, employee_QA (from s3-layout/qa/)
  --dry-run  show what would be uploaded and deleted (aws s3 sync --dryrun); change nothing
  --help     show this help

Environment: S3_BUCKET (required, a bucket name), AWS_PROFILE / AWS_REGION etc. for the aws CLI.
USAGE
}

die() { echo "s3-sync: $*" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

env=""
dry_run=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    dev | qa) [[ -z "$env" ]] || die "give one partition"; env="$1" ;;
    --dry-run | --dryrun) dry_run=(--dryrun) ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[[ -n "$env" ]] || { usage >&2; die "which partition: dev or qa?"; }

bucket="${S3_BUCKET:-}"
bucket="${bucket#s3://}"
bucket="${bucket%/}"
[[ -n "$bucket" ]] || die "S3_BUCKET is not set: refusing to run (S3_BUCKET=<bucket> $0 $env)"
[[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "S3_BUCKET is not a bucket name: $bucket"

case "$env" in
  dev) folders=(base admin manager employee) ;;
  qa)
    folders=(admin_QA manager_QA employee_QA)
    # The qa portals' shared/ is built here, from dev/base, never committed (see sync-portal-base.sh).
    bash scripts/sync-portal-base.sh >/dev/null
    ;;
esac

# Check every folder before syncing any, so a bad layout changes nothing.
for folder in "${folders[@]}"; do
  src="s3-layout/$env/$folder"
  [[ -d "$src" ]] || die "$src is missing"
  [[ -n "$(find "$src" -type f ! -name .gitkeep -print -quit)" ]] || die "$src is empty: refusing to sync it with --delete"
done
command -v aws >/dev/null 2>&1 || die "the aws CLI is not installed (or not on PATH)"

for folder in "${folders[@]}"; do
  echo "s3-sync: s3-layout/$env/$folder → s3://$bucket/$folder${dry_run:+ (dry run)}"
  aws s3 sync "s3-layout/$env/$folder" "s3://$bucket/$folder" --delete \
    --exclude '*.gitkeep' --cache-control no-cache "${dry_run[@]}"
done
echo "s3-sync: $env published to s3://$bucket (${folders[*]})${dry_run:+ — dry run, nothing changed}"
