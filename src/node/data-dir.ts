/**
 * The data folder holds secrets: the SQLite store (the JWT signing key and every password hash), the
 * TLS private keys and the logs. Only the owner may read it (issue 14, finding 5): the folder and
 * every folder below it 0700, every file 0600. New files get that from the node's umask
 * (cli/node-command.ts); this also tightens what an older version left behind, on every start.
 */
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const privateDirMode = 0o700;
export const privateFileMode = 0o600;

/** Creates `dir` if missing and makes it and everything under it owner-only. */
export async function securePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: privateDirMode });
  await tighten(dir, 0);
}

async function tighten(dir: string, depth: number): Promise<void> {
  await chmod(dir, privateDirMode);
  // The layout is shallow (nodes/<uid>/tls/key.pem); the bound only guards against a loop.
  if (depth > 8) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      if (entry.isDirectory()) await tighten(path, depth + 1);
      else if (entry.isFile()) await chmod(path, privateFileMode);
    } catch (err) {
      // Another node process sharing the folder may remove a file (a -shm on close) meanwhile.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
