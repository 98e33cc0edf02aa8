/**
 * The browser bundle of @warren/client: src/ as one ES module with no imports, for pages that
 * load it as it is (the portals, s3-layout/dev/base/warren-client.js). Deterministic: the
 * same sources give the same bytes, which is how test/s3-layout.test.ts tells a stale copy.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_NAME = 'warren-client.js';
/** Where the portals load it from (the qa portals get their copy of dev/base when published). */
export const PORTAL_COPY = fileURLToPath(new URL(`../../../s3-layout/dev/base/${BUNDLE_NAME}`, import.meta.url));

const BANNER = `// @warren/client, built from packages/client/src by \`npm run build -w packages/client\`. Do not edit:
// change the sources and rebuild (test/s3-layout.test.ts fails while this copy is stale).`;

/** The bundle's text. */
export async function bundleClient(): Promise<string> {
  const result = await build({
    // Paths in the output's comments are relative to this, whatever the caller's cwd.
    absWorkingDir: PACKAGE_ROOT,
    entryPoints: ['src/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Private fields, ?? and ??=: every browser of the last three years, and Node 20.
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    banner: { js: BANNER },
    write: false,
    logLevel: 'silent',
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error('esbuild produced no output');
  return file.text;
}
