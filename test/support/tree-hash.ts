import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Every entry under `dir` — files by content, folders (empty ones too) and links by target
 * — in one hash: equal hashes mean nothing was written, removed or left behind.
 */
export function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string) => {
    const full = path.join(dir, relative);
    const stat = lstatSync(full);
    if (stat.isSymbolicLink()) hash.update(`link ${relative} ${readlinkSync(full)}\n`);
    else if (stat.isDirectory()) {
      hash.update(`dir ${relative}\n`);
      for (const entry of readdirSync(full).sort()) walk(path.join(relative, entry));
    } else hash.update(`file ${relative} ${stat.mode} ${createHash('sha256').update(readFileSync(full)).digest('hex')}\n`);
  };
  walk('.');
  return hash.digest('hex');
}
