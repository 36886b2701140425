import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { RUNTIME_NAMES, type RuntimeName } from './runtime.js';

/**
 * The runtime the system was last brought up on, so `status`, `chaos` and `simulate` after
 * `up --runtime compose` act on compose without being told again.
 */
function file(projectDir: string): string {
  return path.join(projectDir, '.scaffold', 'runtime.json');
}

export async function rememberRuntime(projectDir: string, runtime: RuntimeName): Promise<void> {
  await writeFileAtomic(file(projectDir), `${JSON.stringify({ runtime })}\n`);
}

export async function forgetRuntime(projectDir: string): Promise<void> {
  await rm(file(projectDir), { force: true });
}

export function rememberedRuntime(projectDir: string): RuntimeName | undefined {
  if (!existsSync(file(projectDir))) return undefined;
  const { runtime } = JSON.parse(readFileSync(file(projectDir), 'utf8')) as { runtime?: string };
  return RUNTIME_NAMES.find((name) => name === runtime);
}
