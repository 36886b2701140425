import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { own } from '../own.js';
import { newSpecText, withService } from '../spec/edit.js';
import { loadSpec, SPEC_FILE, type LoadedSpec } from '../spec/load.js';
import { parseSpec } from '../spec/load.js';
import type { Pattern, ServiceInput, Spec } from '../spec/schema.js';
import { applyPlan, planCommit, type Plan } from './commit.js';
import { generateProject } from './project.js';

/** What every command that writes files takes. */
export interface WriteOptions {
  /** Plan only: report what would change, write nothing. */
  dryRun?: boolean;
  /** Overwrite files the user edited. */
  force?: boolean;
}

/** A plan, and whether it was written: it is not on a dry run or when it has conflicts. */
export interface WriteResult {
  plan: Plan;
  applied: boolean;
}

export async function initProject(options: WriteOptions & { dir: string; name?: string }): Promise<WriteResult & { name: string }> {
  const name = options.name ?? path.basename(path.resolve(options.dir));
  if (statSync(options.dir, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new UserError(`${options.dir} is a file: init creates a project in a folder`);
  }
  if (existsSync(path.join(options.dir, SPEC_FILE))) {
    throw new UserError(`${path.join(options.dir, SPEC_FILE)} already exists: this is a scaffold project already (use "scaffold generate" there)`);
  }
  const file = path.join(options.dir, SPEC_FILE);
  const loaded = parseSpec(newSpecText({ name, services: {} }), file);
  return { ...(await writeProject(options.dir, loaded, options)), name };
}

export interface NewServiceOptions extends WriteOptions {
  projectDir: string;
  name: string;
  pattern?: Pattern;
  port?: number;
  replicas?: number;
  dependsOn?: string[];
  routes?: Record<string, string>;
}

export async function addService(options: NewServiceOptions): Promise<WriteResult> {
  const loaded = await loadSpec(options.projectDir);
  const pattern = options.pattern ?? 'http-api';
  checkReferences(loaded.spec, options);
  const service: ServiceInput = {
    pattern,
    port: options.port ?? nextFreePort(loaded.spec, pattern),
    replicas: options.replicas,
    dependsOn: options.dependsOn?.length ? options.dependsOn : undefined,
    routes: pattern === 'gateway' ? (options.routes ?? {}) : undefined,
  };
  return writeProject(options.projectDir, withService(loaded, options.name, service), options);
}

export async function regenerate(options: WriteOptions & { projectDir: string }): Promise<WriteResult> {
  return writeProject(options.projectDir, await loadSpec(options.projectDir), options);
}

/** The spec's text and everything generated from it, committed as one change. */
async function writeProject(projectDir: string, loaded: LoadedSpec, options: WriteOptions): Promise<WriteResult> {
  const tree = generateProject(loaded.spec, { projectDir });
  tree.write(SPEC_FILE, loaded.document.toString(), 'user');
  const plan = await planCommit(tree, projectDir, { force: options.force });
  const applied = !options.dryRun && plan.conflicts.length === 0;
  if (applied) await applyPlan(plan);
  return { plan, applied };
}

/** Flag-level checks first, so the message names the flag rather than a line of a file
 * that does not exist yet. */
function checkReferences(spec: Spec, options: NewServiceOptions): void {
  const known = Object.keys(spec.services);
  const listed = known.length > 0 ? `known services: ${known.join(', ')}` : 'the project has no services yet';
  for (const dependency of options.dependsOn ?? []) {
    if (!own(spec.services, dependency)) throw new UserError(`--depends-on: unknown service "${dependency}" (${listed})`);
  }
  if (options.routes && options.pattern !== 'gateway') {
    throw new UserError('--routes is for gateways: add --pattern gateway');
  }
  for (const [prefix, target] of Object.entries(options.routes ?? {})) {
    if (!own(spec.services, target)) throw new UserError(`--routes ${prefix}=${target}: unknown service "${target}" (${listed})`);
  }
  const owner = Object.entries(spec.services).find(([, service]) => service.port === options.port)?.[0];
  if (owner) throw new UserError(`--port ${options.port} is already taken by "${owner}": choose another port`);
}

/** Gateways sit on 8080 by convention; other services count up from 3001. */
export function nextFreePort(spec: Spec, pattern: Pattern): number {
  const taken = new Set(Object.values(spec.services).map((service) => service.port));
  if (pattern === 'gateway' && !taken.has(8080)) return 8080;
  let port = 3001;
  while (taken.has(port)) port += 1;
  return port;
}
