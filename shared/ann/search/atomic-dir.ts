/**
 * Publishing a directory all at once: write everything into a staging
 * sibling, fsync it, then rename it into place. A crash or a failed build
 * leaves at most a stale `<name>.tmp-*` sibling, never a half-written index
 * under the real name.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Creates an empty staging directory next to `finalDir` (same filesystem, so rename is atomic). */
export async function createStagingDir(finalDir: string): Promise<string> {
  await fs.mkdir(path.dirname(finalDir), { recursive: true });
  const staging = await fs.mkdtemp(`${finalDir}.tmp-`);
  // mkdtemp makes it 0700; the published index must be readable by a server
  // running as another (non-root) user, like any other bundle directory.
  await fs.chmod(staging, 0o755);
  return staging;
}

/**
 * Moves `staging` to `finalDir`, replacing any previous version. rename(2)
 * cannot replace a non-empty directory, so the old one is first renamed
 * aside and removed afterwards (restored if the swap fails).
 */
export async function commitStagingDir(staging: string, finalDir: string): Promise<void> {
  await syncTree(staging);
  const aside = `${finalDir}.old-${randomBytes(4).toString('hex')}`;
  const hadOld = await fs.rename(finalDir, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  try {
    await fs.rename(staging, finalDir);
  } catch (error) {
    if (hadOld) await fs.rename(aside, finalDir);
    throw error;
  }
  await syncDir(path.dirname(finalDir));
  if (hadOld) await fs.rm(aside, { recursive: true, force: true });
}

/** Removes a staging directory after a failure. */
export async function discardStagingDir(staging: string): Promise<void> {
  await fs.rm(staging, { recursive: true, force: true });
}

/** fsyncs every file in `dir` and the directory itself, so the rename publishes durable bytes. */
async function syncTree(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    const handle = await fs.open(path.join(dir, name), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
