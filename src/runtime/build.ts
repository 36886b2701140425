import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../spec/schema.js';
import type { Exec } from './exec.js';

/** The built entry of a generated service, relative to its folder. */
export const SERVICE_ENTRY = 'dist/main.js';
/** What a generated service is built from, relative to its folder. */
export const SERVICE_SOURCES = ['src', 'package.json', 'tsconfig.json'];

/**
 * Installs the workspace if it never was, and builds the services whose sources are newer
 * than their build (or all of them with `force`). Returns the services it built.
 */
export async function ensureBuilt(options: {
  projectDir: string;
  spec: Spec;
  exec: Exec;
  force?: boolean;
  onProgress?: (line: string) => void;
}): Promise<string[]> {
  const { projectDir, spec, exec, onProgress } = options;
  if (needsInstall(projectDir, Object.keys(spec.services))) {
    onProgress?.('installing dependencies (npm install)');
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: projectDir });
  }
  const stale = Object.keys(spec.services).filter(
    (name) => options.force || isStale(path.join(projectDir, 'services', name)),
  );
  if (stale.length > 0) {
    onProgress?.(`building ${stale.join(', ')}`);
    await exec('npm', ['run', 'build', ...stale.flatMap((name) => ['-w', `services/${name}`])], { cwd: projectDir });
  }
  return stale;
}

/** Never installed, or a package.json changed since (a service added, or one that now
 * enqueues jobs): npm records each install in node_modules/.package-lock.json. */
function needsInstall(projectDir: string, services: string[]): boolean {
  const installed = path.join(projectDir, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return true;
  const installedAt = statSync(installed).mtimeMs;
  const manifests = [path.join(projectDir, 'package.json'), ...services.map((name) => path.join(projectDir, 'services', name, 'package.json'))];
  return manifests.some((manifest) => newestMtime(manifest) > installedAt);
}

function isStale(serviceDir: string): boolean {
  const built = path.join(serviceDir, SERVICE_ENTRY);
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const sources = SERVICE_SOURCES.map((entry) => path.join(serviceDir, entry));
  return sources.some((source) => newestMtime(source) > builtAt);
}

/** The newest modification time of a file, or of any file under a folder (0 if absent). */
function newestMtime(file: string): number {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // files only: a folder's own time changes with copies and checkouts, not with sources
  return readdirSync(file).reduce((newest, entry) => Math.max(newest, newestMtime(path.join(file, entry))), 0);
}
