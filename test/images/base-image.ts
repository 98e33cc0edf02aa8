/**
 * The stand-in node:20-bookworm-slim (test/images/stand-in-base.sh) as a cached `docker save`
 * tarball: .cache/images/node-20-bookworm-slim-<key>.tar, the key a hash of everything that
 * goes into it (the script, the Node and npm versions, the Debian mirror, this host's CA
 * bundle). Made once (debootstrap and two npm packs, about a minute), then `docker load`ed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivateDockerd } from './private-dockerd.js';

/** The Node release of the stand-in (the npm package node@20.20.2) and the npm it bundles. */
export const NODE_VERSION = '20.20.2';
export const NPM_VERSION = '10.8.2';
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export function loadBaseImage(daemon: PrivateDockerd, cacheDir: string, script: string): { tarball: string; built: boolean } {
  const key = createHash('sha256')
    .update(readFileSync(script))
    .update(`${NODE_VERSION}\0${NPM_VERSION}\0${MIRROR}\0`)
    .update(existsSync(CA_BUNDLE) ? readFileSync(CA_BUNDLE) : '')
    .digest('hex')
    .slice(0, 16);
  const name = `node-20-bookworm-slim-${key}.tar`;
  const tarball = join(cacheDir, name);
  let built = false;
  if (!existsSync(tarball)) {
    // Older keys are of no further use.
    for (const old of readdirSync(cacheDir)) if (old.startsWith('node-20-bookworm-slim-') && old !== name) rmSync(join(cacheDir, old), { force: true });
    const made = spawnSync('bash', [script, tarball], {
      env: { ...daemon.env, NODE_VERSION, NPM_VERSION, DEBIAN_MIRROR: MIRROR },
      encoding: 'utf8',
      timeout: 10 * 60_000,
    });
    if (made.status !== 0) throw new Error(`stand-in base image failed (exit ${made.status}):\n${made.stderr}`);
    built = true;
  }
  const loaded = daemon.docker(['load', '--quiet', '--input', tarball], { timeoutMs: 5 * 60_000 });
  if (loaded.status !== 0) throw new Error(`docker load ${tarball}: ${loaded.stderr}`);
  return { tarball, built };
}
