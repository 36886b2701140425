import { Document, isMap, type YAMLMap } from 'yaml';
import { UserError } from '../errors.js';
import { parseSpec, type LoadedSpec } from './load.js';
import { own } from '../own.js';
import { SCHEMA_FILE } from '../scaffold-dir.js';
import { DEFAULT_POLICY_TEXT } from './call-policy.js';
import { serviceNameProblem } from './names.js';
import type { ServiceInput, SpecInput } from './schema.js';

export const SCHEMA_COMMENT = `yaml-language-server: $schema=${SCHEMA_FILE}`;

/** The text of a new scaffold.yaml. */
export function newSpecText(spec: SpecInput): string {
  const document = new Document(spec);
  document.commentBefore = [
    ` ${SCHEMA_COMMENT}`,
    ' Describes the system; "scaffold generate" renders everything else from it.',
    '',
    ' Every call between services (dependsOn, gateway routes) runs under these defaults',
    ' unless a "resilience:" section names policies for it ("orders -> users": {...}):',
    ...DEFAULT_POLICY_TEXT.map((line) => `   ${line}`),
  ].join('\n');
  return document.toString();
}

/**
 * Adds a service to the spec's YAML (comments and layout kept) and validates the result,
 * so a bad addition fails before anything is written.
 */
export function withService(loaded: LoadedSpec, name: string, service: ServiceInput): LoadedSpec {
  const problem = serviceNameProblem(name);
  if (problem) throw new UserError(problem);
  if (own(loaded.spec.services, name)) {
    throw new UserError(`service "${name}" already exists in ${loaded.file}: choose another name`);
  }
  const document = loaded.document.clone();
  const services = document.get('services');
  if (!isMap(services)) document.set('services', document.createNode({}));
  // an empty map prints as "{}" (flow style); services read better as a block
  (document.get('services') as YAMLMap).flow = false;
  document.setIn(['services', name], document.createNode(dropUndefined(service)));
  return parseSpec(document.toString(), loaded.file);
}

/**
 * Declares an infrastructure entry (a queue Redis and its queues) in the spec's YAML, and
 * validates the result.
 */
export function withInfrastructure(loaded: LoadedSpec, name: string, entry: Record<string, unknown>): LoadedSpec {
  if (own(loaded.spec.infrastructure, name)) throw new UserError(`infrastructure "${name}" already exists in ${loaded.file}: choose another name`);
  const document = loaded.document.clone();
  if (!isMap(document.get('infrastructure'))) document.set('infrastructure', document.createNode({}));
  (document.get('infrastructure') as YAMLMap).flow = false;
  document.setIn(['infrastructure', name], document.createNode(entry));
  return parseSpec(document.toString(), loaded.file);
}

/** Sets one field of a service (the demo's orders: `enqueues`), and validates the result. */
export function withServiceField(loaded: LoadedSpec, service: string, field: string, value: unknown): LoadedSpec {
  if (!own(loaded.spec.services, service)) throw new UserError(`no service "${service}" in ${loaded.file}`);
  const document = loaded.document.clone();
  document.setIn(['services', service, field], document.createNode(value));
  return parseSpec(document.toString(), loaded.file);
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
