import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-write.js';
import { UserError } from '../errors.js';
import { scaffoldPaths } from '../scaffold-dir.js';
import { RUNTIME_NAMES, type RuntimeName } from './runtime.js';

/**
 * The runtime the system was last brought up on, so `status`, `chaos` and `simulate` after
 * `up --runtime compose` act on compose without being told again.
 */
function file(projectDir: string): string {
  return scaffoldPaths(projectDir).runtime;
}

export async function rememberRuntime(projectDir: string, runtime: RuntimeName): Promise<void> {
  await writeFileAtomic(file(projectDir), `${JSON.stringify({ runtime })}\n`);
}

export async function forgetRuntime(projectDir: string): Promise<void> {
  await rm(file(projectDir), { force: true });
}

export function rememberedRuntime(projectDir: string): RuntimeName | undefined {
  if (!existsSync(file(projectDir))) return undefined;
  let remembered: unknown;
  try {
    remembered = JSON.parse(readFileSync(file(projectDir), 'utf8'));
  } catch {
    remembered = undefined; // unreadable or not JSON: damaged either way
  }
  const runtime = (remembered as { runtime?: unknown } | null)?.runtime;
  const known = RUNTIME_NAMES.find((name) => name === runtime);
  if (!known) {
    throw new UserError(`${file(projectDir)} is damaged (expected {"runtime": "${RUNTIME_NAMES.join('" or "')}"}): delete it, or pass --runtime`);
  }
  return known;
}
