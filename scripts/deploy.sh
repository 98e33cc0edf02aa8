#!/usr/bin/env bash
# Deploys one partition on this host: `docker compose -f docker-compose.<dev|qa>.yml up -d`
# with the images of one commit (TAG), then waits until every container is healthy and the
# partition's gateway answers /healthz, and says where it runs.
#
# Images: <registry>/<service>:dev-<TAG> or <registry>/<service>_qa:qa-<TAG>, as
# scripts/build-images.sh tags them; compose pulls the ones this host does not have yet.
# Rolling back is deploying an older TAG: `scripts/deploy.sh qa --tag <older sha>`.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/deploy.sh dev|qa [options]

Starts (or updates) the dev or the qa partition with docker compose and waits for health.

  --tag SHA       image tag to run (default: $TAG, else the current commit's 12-digit sha)
  --local         also start the `local` profile (RabbitMQ, PostgreSQL, Mailpit) for a laptop
  --pull          pull every image first, even those already on this host
  --timeout SECS  how long to wait for health (default 180)
  --dry-run       print the docker compose commands it would run; run nothing
  --help          show this help

Needs Docker Compose v2.26 or newer (the `docker compose` plugin).
Environment: REGISTRY, RABBITMQ_URL, POSTGRES_URL, ... (see docker-compose.<env>.yml),
DEV_GATEWAY_PORT (8080) / QA_GATEWAY_PORT (8081), PUBLIC_HOST (name printed at the end).
Roll back: scripts/deploy.sh <env> --tag <previous sha>
USAGE
}

die() { echo "deploy: $*" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

env=""
tag="${TAG:-}"
local_profile=false
pull_always=false
dry_run=false
timeout=180
while [[ $# -gt 0 ]]; do
  case "$1" in
    dev | qa) [[ -z "$env" ]] || die "give one partition"; env="$1" ;;
    --tag) [[ $# -ge 2 ]] || die "--tag needs a value"; tag="$2"; shift ;;
    --tag=*) tag="${1#--tag=}" ;;
    --local) local_profile=true ;;
    --pull) pull_always=true ;;
    --dry-run) dry_run=true ;;
    --timeout) [[ $# -ge 2 ]] || die "--timeout needs a value"; timeout="$2"; shift ;;
    --timeout=*) timeout="${1#--timeout=}" ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[[ -n "$env" ]] || { usage >&2; die "which partition: dev or qa?"; }
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds"
if [[ -z "$tag" ]]; then
  tag="$(git rev-parse --short=12 HEAD 2>/dev/null)" || die "no --tag and no git checkout to take the sha from"
fi
[[ "$tag" =~ ^[A-Za-z0-9._-]+$ ]] || die "invalid tag: $tag"
export TAG="$tag"

compose_file="docker-compose.$env.yml"
[[ -f "$compose_file" ]] || die "$compose_file is missing"
compose=(docker compose -f "$compose_file")
if $local_profile; then compose+=(--profile local); fi
if [[ "$env" == dev ]]; then
  gateway_port="${DEV_GATEWAY_PORT:-8080}" images="${REGISTRY:-warren}/<service>:dev-$TAG"
else
  gateway_port="${QA_GATEWAY_PORT:-8081}" images="${REGISTRY:-warren}/<service>_qa:qa-$TAG"
fi

if $dry_run; then
  echo "deploy: dry run of the $env partition, images $images; would run:"
  if $pull_always; then printf '  TAG=%q %s pull\n' "$TAG" "${compose[*]}"; fi
  printf '  TAG=%q %s up -d --pull missing\n' "$TAG" "${compose[*]}"
  echo "  then wait up to ${timeout}s for every container to be healthy and for http://127.0.0.1:$gateway_port/healthz"
  exit 0
fi

# The compose files use `required: false` in depends_on, which Compose reads from v2.20 on, and
# were checked with v2.26: older versions (or the v1 docker-compose) misread them.
required_compose=2.26.0
command -v docker >/dev/null 2>&1 || die "docker is not installed (or not on PATH); needs Docker with Compose v$required_compose or newer"
compose_version="$(docker compose version --short 2>/dev/null)" ||
  die "needs Docker Compose v$required_compose or newer (the \`docker compose\` plugin, e.g. apt-get install docker-compose-plugin); \`docker compose\` is not available"
compose_version="${compose_version#v}"
if [[ "$(printf '%s\n%s\n' "$required_compose" "$compose_version" | sort -V | head -n1)" != "$required_compose" ]]; then
  die "needs Docker Compose v$required_compose or newer; this is v$compose_version"
fi

echo "deploy: $env partition, images $images"
if $pull_always; then
  "${compose[@]}" pull
fi
# --pull missing: use the images already on this host (built here), pull the others.
"${compose[@]}" up -d --pull missing

# Wait until every container of the partition runs and is healthy.
deadline=$((SECONDS + timeout))
while :; do
  states="$("${compose[@]}" ps --all --format '{{.Service}} {{.State}} {{.Health}}')"
  pending="$(awk '$2 != "running" || $3 != "healthy" { print $1 "=" $2 ($3 ? "/" $3 : "") }' <<<"$states")"
  if [[ -n "$states" && -z "$pending" ]]; then break; fi
  if ((SECONDS >= deadline)); then
    echo "deploy: not healthy after ${timeout}s: $(tr '\n' ' ' <<<"$pending")" >&2
    "${compose[@]}" ps --all >&2 || true
    "${compose[@]}" logs --tail 30 >&2 || true
    exit 1
  fi
  sleep 3
done

# Through the gateway, as a client would reach it.
until curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$gateway_port/healthz"; do
  if ((SECONDS >= deadline)); then
    echo "deploy: the gateway does not answer on http://127.0.0.1:$gateway_port/healthz" >&2
    exit 1
  fi
  sleep 2
done

host="${PUBLIC_HOST:-$(hostname -f 2>/dev/null || hostname)}"
if [[ "$env" == dev ]]; then first=3000; else first=4000; fi
cat <<EOF
deploy: the $env partition runs $images, all healthy
  gateway (REST and WebSocket /ws): http://$host:$gateway_port
  services on this host only:       main-backend 127.0.0.1:$first, auth 127.0.0.1:$((first + 1)), notification 127.0.0.1:$((first + 2))
  roll back:                        scripts/deploy.sh $env --tag <previous sha>
EOF
