import { findInfrastructure } from '../infrastructure/index.js';

/** The spec's vocabulary, kept free of the schema library so the CLI can name choices
 * without loading it. */

/** DNS-1035 label (a DNS-1123 label that starts with a letter): names become hostnames,
 * image names, environment variable prefixes and Kubernetes object names. */
export const SERVICE_NAME_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Room for the suffixes Kubernetes objects and compose containers add to a name. */
export const SERVICE_NAME_MAX = 40;

/** Names a service cannot take: they collide with Kubernetes' own objects, the project's
 * folders or compose's own services (and infrastructure kinds, whose names are their hosts). */
export const RESERVED_SERVICE_NAMES: ReadonlySet<string> = new Set([
  'default',
  'kubernetes',
  'localhost',
  'scaffold',
  'services',
  'deploy',
  'node-modules',
  // compose's opt-in Prometheus (the monitoring profile) is a service of that name
  'prometheus',
]);

export const RESTART_POLICIES = ['always', 'on-failure', 'no'] as const;
export const BALANCING = ['round-robin', 'least-connections'] as const;
export const FRONT_PORT_MODES = ['proxy', 'handoff'] as const;
export type FrontPortMode = (typeof FRONT_PORT_MODES)[number];

export function serviceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a service name cannot be empty';
  if (!SERVICE_NAME_PATTERN.test(name)) {
    return `"${name}" is not a valid service name: use lowercase letters, digits and "-", starting with a letter and not ending with "-" (e.g. "orders" or "user-profile")`;
  }
  if (name.length > SERVICE_NAME_MAX) {
    return `"${name}" is too long for a service name: at most ${SERVICE_NAME_MAX} characters`;
  }
  if (RESERVED_SERVICE_NAMES.has(name) || findInfrastructure(name)) return `"${name}" is a reserved name: choose another service name`;
  return undefined;
}

