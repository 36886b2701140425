import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes through a temp file and a rename, so a reader never sees half a file; when the
 * write fails (a full or read-only disk, a folder in the way), nothing of it is left. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const staged = await stageFile(file, content);
  try {
    await rename(staged.temp, file);
  } catch (error) {
    await unstage([staged]);
    throw error;
  }
}

/** A file written beside its target, waiting for its rename; `createdDir` is the first
 * folder its writing had to create (undefined when its folder was there already). */
export interface StagedFile {
  temp: string;
  target: string;
  createdDir?: string;
}

/** Writes `content` to a temp file beside `target` (creating its folder); on failure
 * removes what it made before it rethrows. */
export async function stageFile(target: string, content: string): Promise<StagedFile> {
  const createdDir = await makeDir(path.dirname(target));
  const staged: StagedFile = { temp: `${target}.${randomBytes(6).toString('hex')}.tmp`, target, createdDir };
  try {
    await writeFile(staged.temp, content);
  } catch (error) {
    await unstage([staged]);
    // a failed write(2) names no file: name the one it was for
    (error as NodeJS.ErrnoException).path ??= target;
    throw error;
  }
  return staged;
}

/**
 * mkdir -p, one level at a time, returning the first folder it made. Not Node's recursive
 * mkdir: it reports ENOENT where the real reason is another (a read-only disk, a file in
 * the way), and under a folder that refuses new entries with ENOENT (`/proc`) it retries
 * for ever (Node 20 and 24: `init /proc/x` spun until killed).
 */
async function makeDir(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir);
    return dir;
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return undefined;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    const first = await makeDir(parent);
    // a second ENOENT, with the parent there: the folder cannot hold new entries
    await mkdir(dir);
    return first ?? dir;
  }
}

/** Removes staged temp files and the folders made for them, newest first. */
export async function unstage(staged: StagedFile[]): Promise<void> {
  await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
  for (const { createdDir } of [...staged].reverse()) {
    if (createdDir) await rm(createdDir, { recursive: true, force: true });
  }
}
