#!/usr/bin/env bash
# Builds the Docker images of the services: for each service one dev image and one QA image,
# from the same commit, with `docker build` (Dockerfile at the repository root).
#
#   warren/<service>:dev-<sha>       APP_ENV=dev, run by docker-compose.dev.yml
#   warren/<service>_qa:qa-<sha>     APP_ENV=qa,  run by docker-compose.qa.yml
#
# `warren` is replaced by $REGISTRY when set (registry host and namespace, e.g.
# 123456789012.dkr.ecr.eu-west-1.amazonaws.com/warren). <sha> is the commit's 12-digit sha.
#
# Which services: --all, the names given, or (no name) the services changed since their last
# successful build. That is remembered per service in .build-markers/<service> (git-ignored):
# the commit it was last built from. A change under services/<service>/ counts for that
# service; a change to anything else that goes into every image (shared/, package.json,
# package-lock.json, Dockerfile, .dockerignore, tsconfig.base.json, scripts/build-workspace.mjs,
# scripts/node-options.txt, deploy/healthcheck.mjs, packages/client/package.json) counts for all. No marker (or a marker git no longer knows) = build.
#
# Parallel: every build is a background job, at most --jobs at once (default 6: all of them
# for --all). The dev and qa builds of a service differ only in the last Dockerfile stage, so
# BuildKit builds the shared stages once and both finish together; the classic builder shares
# nothing between concurrent builds, so with it --jobs 1 (dev then qa of each service, every
# later build reusing the cached layers) is faster. Each build (and its push)
# logs to build-logs/<service>-<dev|qa>.log. A service's marker moves only when both its
# images were built (and pushed, with --push); the script exits 1 naming every service that
# failed.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/build-images.sh [options] [--all | SERVICE...]

Builds the dev and the QA image of each service (auth, main-backend, notification),
tagged <registry>/<service>:dev-<sha> and <registry>/<service>_qa:qa-<sha>.

  --all           build every service
  SERVICE...      build these services (e.g. auth main-backend)
  (nothing)       build the services changed since their last successful build
  --push          push each image after building it (to $REGISTRY)
  --dry-run       print what would be built and pushed; build nothing
  --jobs N        run at most N builds at once (default 6; use 1 with the classic builder,
                  which does not share stages between concurrent builds)
  --network MODE  network for the build's RUN steps (docker build --network), e.g. host
                  on a daemon started with --bridge=none
  --allow-dirty   build even though image inputs have uncommitted changes (tags end in
                  -dirty; markers are not moved)
  --help          show this help

Environment: REGISTRY (default "warren"; required with --push), BUILD_JOBS (default for
--jobs), DOCKER_HOST (which daemon), BUILD_LOGS_DIR and BUILD_MARKERS_DIR (instead of
build-logs/ and .build-markers/).
Logs: build-logs/<service>-<dev|qa>.log. Markers: .build-markers/<service>.
USAGE
}

die() { echo "build-images: $*" >&2; exit 2; }

# `wait -n -p` (collect whichever build ends first) needs bash 5.1.
if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
  die "needs bash 5.1 or newer (this is $BASH_VERSION)"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

all_services=(auth main-backend notification)
# Everything outside services/ that goes into every image (keep in step with .dockerignore).
common_inputs=(shared package.json package-lock.json Dockerfile .dockerignore tsconfig.base.json
  scripts/build-workspace.mjs scripts/node-options.txt deploy/healthcheck.mjs packages/client/package.json)

build_all=false
push=false
dry_run=false
allow_dirty=false
jobs="${BUILD_JOBS:-6}"
network=""
requested=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --all) build_all=true ;;
    --push) push=true ;;
    --dry-run) dry_run=true ;;
    --allow-dirty) allow_dirty=true ;;
    --jobs) [[ $# -ge 2 ]] || die "--jobs needs a number"; jobs="$2"; shift ;;
    --jobs=*) jobs="${1#--jobs=}" ;;
    --network) [[ $# -ge 2 ]] || die "--network needs a mode"; network="$2"; shift ;;
    --network=*) network="${1#--network=}" ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option: $1" ;;
    *)
      [[ " ${all_services[*]} " == *" $1 "* ]] || die "unknown service: $1 (one of: ${all_services[*]})"
      requested+=("$1")
      ;;
  esac
  shift
done
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number (got '$jobs')"
if $build_all && [[ ${#requested[@]} -gt 0 ]]; then
  die "give either --all or service names, not both"
fi
[[ "$network" =~ ^[A-Za-z0-9._:-]*$ ]] || die "invalid --network: $network"
# Without a registry the images would be pushed as warren/<service> to Docker Hub's namespace
# of someone else.
if $push && [[ -z "${REGISTRY:-}" ]]; then
  die "--push needs REGISTRY (the registry host and namespace to push to)"
fi

git rev-parse --git-dir >/dev/null 2>&1 || die "$root is not a git repository"
head_sha="$(git rev-parse HEAD)"
tag_sha="$(git rev-parse --short=12 HEAD)"

# An image tagged with a commit must be built from that commit.
dirty="$(git status --porcelain -- services "${common_inputs[@]}")"
if [[ -n "$dirty" ]]; then
  if ! $allow_dirty; then
    echo "build-images: uncommitted changes in image inputs; commit them or pass --allow-dirty:" >&2
    echo "$dirty" >&2
    exit 2
  fi
  echo "build-images: warning: building uncommitted changes; tags end in -dirty" >&2
  tag_sha="$tag_sha-dirty"
fi

registry="${REGISTRY:-warren}"
registry="${registry%/}"
# Elsewhere for builds that must not count as this checkout's (test/images builds into a
# private daemon).
markers="${BUILD_MARKERS_DIR:-$root/.build-markers}"
logs="${BUILD_LOGS_DIR:-$root/build-logs}"

# Is $1 (a service) changed between its marker and HEAD? Prints the reason. --no-renames: a
# file moved out of services/<name>/ still counts as a change there.
changed_since_marker() {
  local service="$1" marker_file="$markers/$1" marker path input
  if [[ ! -s "$marker_file" ]]; then
    echo "never built"
    return 0
  fi
  marker="$(tr -d '[:space:]' <"$marker_file")"
  if ! git cat-file -e "$marker^{commit}" 2>/dev/null; then
    echo "marker $marker is not a known commit"
    return 0
  fi
  while IFS= read -r path; do
    [[ -z "$path" ]] && continue
    if [[ "$path" == "services/$service/"* ]]; then
      echo "changed: $path"
      return 0
    fi
    for input in "${common_inputs[@]}"; do
      if [[ "$path" == "$input" || "$path" == "$input/"* ]]; then
        echo "changed: $path (used by every image)"
        return 0
      fi
    done
  done < <(git diff --no-renames --name-only "$marker" HEAD)
  return 1
}

services=()
if $build_all; then
  services=("${all_services[@]}")
elif [[ ${#requested[@]} -gt 0 ]]; then
  for s in "${all_services[@]}"; do
    [[ " ${requested[*]} " == *" $s "* ]] && services+=("$s")
  done
else
  for s in "${all_services[@]}"; do
    if reason="$(changed_since_marker "$s")"; then
      echo "build-images: $s: $reason"
      services+=("$s")
    else
      echo "build-images: $s: unchanged since $(cut -c1-12 "$markers/$s")"
    fi
  done
fi
if [[ ${#services[@]} -eq 0 ]]; then
  echo "build-images: nothing to build"
  exit 0
fi

image_name() { # service env
  if [[ "$2" == dev ]]; then
    echo "$registry/$1:dev-$tag_sha"
  else
    echo "$registry/$1_qa:qa-$tag_sha"
  fi
}

# The Node options of a service (scripts/node-options.txt), on one line; empty if it has none.
node_options_of() { # service
  awk -v s="$1" '$1 == s { $1 = ""; sub(/^ +/, ""); print; exit }' scripts/node-options.txt
}

# The docker build arguments of one image; the same list is printed by --dry-run and run.
build_args() { # service env
  build_argv=(build --file Dockerfile)
  if [[ -n "$network" ]]; then build_argv+=(--network "$network"); fi
  build_argv+=(--build-arg "SERVICE=$1" --build-arg "APP_ENV=$2")
  local options
  options="$(node_options_of "$1")"
  if [[ -n "$options" ]]; then build_argv+=(--build-arg "NODE_OPTIONS=$options"); fi
  build_argv+=(
    --label "org.opencontainers.image.revision=$head_sha" --tag "$(image_name "$1" "$2")" .)
}

if $dry_run; then
  echo "build-images: dry run at $tag_sha, at most $jobs builds at once; would run:"
  for s in "${services[@]}"; do
    for env in dev qa; do
      build_args "$s" "$env"
      cmd="$(printf '%q ' docker "${build_argv[@]}")"
      echo "  ${cmd% } > build-logs/$s-$env.log"
      if $push; then echo "  docker push $(image_name "$s" "$env")"; fi
    done
  done
  exit 0
fi

command -v docker >/dev/null 2>&1 || die "docker is not installed (or not on PATH)"
# Before six builds fail one by one: is a daemon there to build with?
if ! daemon_error="$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null)"; then
  die "no Docker daemon answers${DOCKER_HOST:+ at $DOCKER_HOST}; start one (e.g. systemctl start docker) or set DOCKER_HOST: ${daemon_error//$'\n'/ }"
fi
mkdir -p "$logs" "$markers"
# One background job per image: build, then push. Its exit status is the job's.
run_one() { # service env
  local service="$1" env="$2" image log
  image="$(image_name "$service" "$env")"
  log="$logs/$service-$env.log"
  {
    echo "# $(date -u +%FT%TZ) building $image"
    build_args "$service" "$env"
    docker "${build_argv[@]}" || return 1
    if $push; then
      echo "# $(date -u +%FT%TZ) pushing $image"
      docker push "$image" || return 1
    fi
    echo "# $(date -u +%FT%TZ) done $image"
  } >"$log" 2>&1
}

echo "build-images: building ${services[*]} at $tag_sha (dev and qa, at most $jobs at once; logs in build-logs/)"
declare -A job_of_pid=()
declare -A failed=()
running=0

collect_one() {
  local pid status=0
  wait -n -p pid || status=$?
  running=$((running - 1))
  local job="${job_of_pid[$pid]}"
  local service="${job% *}" env="${job#* }"
  if [[ $status -eq 0 ]]; then
    echo "build-images: ok     $(image_name "$service" "$env")"
  else
    echo "build-images: FAILED $(image_name "$service" "$env") (exit $status, see $logs/$service-$env.log)" >&2
    failed["$service $env"]=1
  fi
}

for s in "${services[@]}"; do
  for env in dev qa; do
    while [[ $running -ge $jobs ]]; do collect_one; done
    run_one "$s" "$env" &
    job_of_pid[$!]="$s $env"
    running=$((running + 1))
  done
done
while [[ $running -gt 0 ]]; do collect_one; done

summary=()
for s in "${services[@]}"; do
  envs=()
  for env in dev qa; do
    if [[ -n "${failed["$s $env"]:-}" ]]; then envs+=("$env"); fi
  done
  if [[ ${#envs[@]} -gt 0 ]]; then
    summary+=("$s (${envs[*]})")
  elif [[ "$tag_sha" != *-dirty ]]; then
    echo "$head_sha" >"$markers/$s"
  fi
done

if [[ ${#summary[@]} -gt 0 ]]; then
  echo "build-images: failed: ${summary[*]}" >&2
  exit 1
fi
echo "build-images: built ${#services[@]} service(s), $((${#services[@]} * 2)) images at $tag_sha"
