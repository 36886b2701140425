import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every file under `dir` with a hash of its content: equal snapshots mean nothing changed. */
export function snapshotDir(dir: string, skip = new Set(['node_modules'])): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current)) {
      if (skip.has(entry)) continue;
      const full = path.join(current, entry);
      if (statSync(full).isDirectory()) walk(full);
      else files[path.relative(dir, full)] = createHash('sha1').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return files;
}
