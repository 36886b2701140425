import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { own } from '../own.js';
import { newSpecText, withInfrastructure, withService, withServiceField } from '../spec/edit.js';
import { loadSpec, SPEC_FILE, type LoadedSpec } from '../spec/load.js';
import { hasFieldProblems } from '../spec/yaml-file.js';
import { parseSpec } from '../spec/load.js';
import { allPatterns, defaultPattern, patternNamed, type PatternDefinition } from '../patterns/index.js';
import { allCalls } from '../spec/graph.js';
import type { Service, ServiceInput, Spec } from '../spec/schema.js';
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
  let loaded: LoadedSpec;
  try {
    loaded = parseSpec(newSpecText({ name, services: {} }), file);
  } catch (error) {
    // said of the name, not of a line in a scaffold.yaml never written
    const problem = hasFieldProblems(error) && error.fields[0]?.path[0] === 'name' ? error.fields[0].problem : undefined;
    if (problem === undefined) throw error;
    const from = options.name === undefined ? `the folder's name: pass --name <name>` : '--name';
    throw new UserError(`"${name}" is not a valid project name (${from}): ${problem}`);
  }
  return { ...(await writeProject(options.dir, loaded, options)), name };
}

export interface NewServiceOptions extends WriteOptions {
  projectDir: string;
  /** The spec the command read (read here when not given). */
  loaded?: LoadedSpec;
  name: string;
  /** One of the pattern registry's names (default: its first). */
  pattern?: string;
  port?: number;
  replicas?: number;
  dependsOn?: string[];
  /** The pattern's own fields, from its flags or its prompt (a gateway's `routes`). */
  fields?: Record<string, unknown>;
}

export async function addService(options: NewServiceOptions): Promise<WriteResult> {
  const loaded = options.loaded ?? (await loadSpec(options.projectDir));
  const pattern = options.pattern === undefined ? defaultPattern() : patternNamed(options.pattern);
  checkFlags(loaded.spec, pattern, options);
  const service: ServiceInput = {
    pattern: pattern.name,
    port: options.port ?? nextFreePort(loaded.spec, pattern),
    replicas: options.replicas,
    dependsOn: options.dependsOn?.length ? options.dependsOn : undefined,
    // what its pattern cannot run without (the spec still wants it declared)
    uses: pattern.requires?.infrastructure?.length ? [...pattern.requires.infrastructure] : undefined,
    ...options.fields,
  };
  let added: LoadedSpec;
  try {
    added = withService(loaded, options.name, service);
  } catch (error) {
    throw flagProblem(error, pattern, options.name, service) ?? error;
  }
  return writeProject(options.projectDir, added, options);
}

/** The flags that set the fields every service has. */
const COMMON_FLAGS: Record<string, string> = { port: '--port', replicas: '--replicas', dependsOn: '--depends-on' };

/**
 * A problem the schema found in the new service's own entry, said of the flag that set
 * the field (or would have): its file:line is in a scaffold.yaml that was never written,
 * and a user who opened the file found no such line.
 */
function flagProblem(error: unknown, pattern: PatternDefinition, name: string, service: ServiceInput): UserError | undefined {
  if (!hasFieldProblems(error)) return undefined;
  const [first, ...rest] = error.fields;
  if (first?.path[0] !== 'services' || first.path[1] !== name || first.path.length < 3) return undefined;
  const field = String(first.path[2]);
  // "--queue <queue>": the pattern's own flag, as --help shows it
  const option = COMMON_FLAGS[field] ?? pattern.newService.flags?.find((flag) => flag.field === field)?.option;
  if (option === undefined) return undefined;
  const flag = option.split(' ')[0]!;
  const value = (service as Record<string, unknown>)[field];
  const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  const problem = value === undefined ? `${option} is required for pattern ${pattern.name}` : `${flag} ${[value].flat().join(',')}: ${first.problem}`;
  return new UserError(`${problem}${more}`);
}

/** Declares an infrastructure entry and sets a field of some services, in one change:
 * what a feature spanning several services needs (the demo's queue, its producer). */
export async function extendSpec(options: WriteOptions & {
  projectDir: string;
  infrastructure?: Record<string, Record<string, unknown>>;
  fields?: { service: string; field: string; value: unknown }[];
}): Promise<WriteResult> {
  let loaded = await loadSpec(options.projectDir);
  for (const [name, entry] of Object.entries(options.infrastructure ?? {})) loaded = withInfrastructure(loaded, name, entry);
  for (const { service, field, value } of options.fields ?? []) loaded = withServiceField(loaded, service, field, value);
  return writeProject(options.projectDir, loaded, options);
}

/** Everything generated brought up to date with the spec (`loaded`: the one the command read). */
export async function regenerate(options: WriteOptions & { projectDir: string; loaded?: LoadedSpec }): Promise<WriteResult> {
  return writeProject(options.projectDir, options.loaded ?? (await loadSpec(options.projectDir)), options);
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
function checkFlags(spec: Spec, pattern: PatternDefinition, options: NewServiceOptions): void {
  for (const field of Object.keys(options.fields ?? {})) {
    const owner = allPatterns().find((candidate) => candidate.newService.flags?.some((flag) => flag.field === field));
    if (owner && owner !== pattern) throw new UserError(`${flagOf(owner, field)} is for pattern ${owner.name}: add --pattern ${owner.name}`);
  }
  const known = Object.keys(spec.services);
  const listed = known.length > 0 ? `known services: ${known.join(', ')}` : 'the project has no services yet';
  const asked = { pattern: pattern.name, dependsOn: options.dependsOn ?? [], ...options.fields } as unknown as Service;
  for (const { target, path } of allCalls(asked)) {
    // "--depends-on", or the pattern's flag and the entry naming it: "--routes /orders"
    const flag = path[0] === 'dependsOn' ? '--depends-on' : [flagOf(pattern, String(path[0])), ...path.slice(1)].join(' ');
    if (!own(spec.services, target)) throw new UserError(`${flag}: unknown service "${target}" (${listed})`);
  }
  const owner = Object.entries(spec.services).find(([, service]) => service.port === options.port)?.[0];
  if (owner) throw new UserError(`--port ${options.port} is already taken by "${owner}": choose another port`);
}

function flagOf(pattern: PatternDefinition, field: string): string {
  const option = pattern.newService.flags?.find((flag) => flag.field === field)?.option ?? field;
  return option.split(' ')[0]!;
}

/** A pattern may have a port by convention (a gateway's 8080); others count up from 3001. */
export function nextFreePort(spec: Spec, pattern: PatternDefinition): number {
  const taken = new Set(Object.values(spec.services).map((service) => service.port));
  const preferred = pattern.traits.defaultPort;
  if (preferred !== undefined && !taken.has(preferred)) return preferred;
  let port = 3001;
  while (taken.has(port)) port += 1;
  return port;
}
