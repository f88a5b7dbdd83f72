import { readFileSync } from 'node:fs';

/** The package version, reported as each node's `software_version`. */
export const version: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface BuildInfo {
  readonly commit: string | null;
  readonly modified: boolean;
}

/** What scripts/build-info.mjs recorded at build time; absent when dist/ was built by `tsc` alone. */
function readBuildInfo(): BuildInfo {
  try {
    const raw = JSON.parse(
      readFileSync(new URL('../build-info.json', import.meta.url), 'utf8'),
    ) as Partial<BuildInfo>;
    return {
      commit: typeof raw.commit === 'string' && raw.commit !== '' ? raw.commit : null,
      modified: raw.modified === true,
    };
  } catch {
    return { commit: null, modified: false };
  }
}

const build = readBuildInfo();

/** The commit this build was made from (12 hex digits), or null when it is not known. */
export const commit: string | null = build.commit;

/** `bosun --version`: `bosun 0.1.0 (commit 0123456789ab)`, `+ local changes` when built from a modified tree. */
export const versionLine: string =
  build.commit === null
    ? `bosun ${version} (commit unknown)`
    : `bosun ${version} (commit ${build.commit}${build.modified ? ' + local changes' : ''})`;
