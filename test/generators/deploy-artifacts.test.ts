import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { generateProject } from '../../src/generators/project.js';
import { parseSpec } from '../../src/spec/load.js';
import { dependenciesOf } from '../../src/spec/graph.js';
import type { Spec } from '../../src/spec/schema.js';
import { REPO, tempDir } from '../support/cli.js';
import {
  composeDependsOnProblems,
  composePortProblems,
  composeSchemaProblems,
  dockerfileProblems,
  dockerIgnores,
  flagsOf,
  imageReferenceProblems,
  kubernetesSchemaProblems,
  kustomize,
  networkPolicyAdmits,
  parsePort,
  restrictedProblems,
  selects,
  type KubeObject,
} from '../support/deploy-validators.js';

/** Infrastructure, env values that need quoting and escaping, replicas 3, custom health
 * paths, every restart policy, a service nothing calls. */
const INLINE_SPEC = `
name: store
services:
  catalog:
    port: 4000
    replicas: 3
    uses: [postgres]
    health: { liveness: /live, readiness: /ready }
    env:
      LOG_LEVEL: debug
      GREETING: 'Hello, "world": $HOME #1 {{x}} \${Y}'
      "NO": "true"
  worker:
    port: 4100
    dependsOn: [catalog]
    uses: [redis, nats]
    restart: "no"
    resources:
      requests: { cpu: 50m, memory: 64Mi }
      limits: { cpu: "1", memory: 512Mi }
  web:
    pattern: gateway
    port: 8000
    restart: on-failure
    routes:
      /catalog: catalog
infrastructure:
  postgres: {}
  redis: { version: "7.4" }
  nats: { image: registry.example.com/mirror/nats:2.10-alpine }
`;

const INFRASTRUCTURE = {
  postgres: { urlVar: 'DATABASE_URL', port: 5432 },
  redis: { urlVar: 'REDIS_URL', port: 6379 },
  nats: { urlVar: 'NATS_URL', port: 4222 },
} as const;

/** Where each image keeps its data (its documentation says so). */
const DATA_PATHS = { postgres: '/var/lib/postgresql/data', redis: '/data', nats: '/data' } as const;

const FIXTURES = [
  { title: 'the classic fixture', file: 'scaffold.yaml', text: readFileSync(path.join(REPO, 'test/fixtures/classic.yaml'), 'utf8') },
  { title: 'a spec with infrastructure, env and replicas 3', file: 'scaffold.yaml', text: INLINE_SPEC },
];

interface Rendered {
  dir: string;
  spec: Spec;
  read(file: string): string;
}

/** Generates in memory, then writes the tree where docker, compose and kubectl would see it. */
function render(text: string, file: string): Rendered {
  const { spec } = parseSpec(text, file);
  const dir = tempDir('scaffold-deploy-');
  for (const generated of generateProject(spec).files()) {
    const target = path.join(dir, generated.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, generated.content);
  }
  return { dir, spec, read: (relative) => readFileSync(path.join(dir, relative), 'utf8') };
}

/** The environment a service's container must get, from the spec alone. */
function expectedEnvironment(spec: Spec, name: string): Record<string, string> {
  const service = spec.services[name]!;
  const env: Record<string, string> = { HOST: '0.0.0.0' };
  for (const upstream of dependenciesOf(service)) {
    env[`${upstream.toUpperCase().replaceAll('-', '_')}_URL`] = `http://${upstream}:${spec.services[upstream]!.port}`;
  }
  for (const kind of service.uses) env[INFRASTRUCTURE[kind].urlVar] = expect.stringMatching(new RegExp(`^\\w+://([^@/]*@)?${kind}:${INFRASTRUCTURE[kind].port}(/|$)`)) as unknown as string;
  Object.assign(env, service.env);
  // ports, probes and Services are wired to the spec's port: the env cannot move it
  env.PORT = String(service.port);
  return env;
}

function callersOf(spec: Spec, name: string): string[] {
  return Object.entries(spec.services)
    .filter(([, other]) => dependenciesOf(other).includes(name))
    .map(([caller]) => caller)
    .sort();
}

const podLabels = (name: string) => ({ 'app.kubernetes.io/name': name });

describe.each(FIXTURES)('deployment artifacts for $title', ({ text, file }) => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = render(text, file);
  });
  afterAll(() => rmSync(rendered.dir, { recursive: true, force: true }));

  const serviceNames = () => Object.keys(rendered.spec.services);

  it('writes YAML that means the same under YAML 1.1 (kubectl, compose) as under 1.2', () => {
    const yamlFiles = generateProject(rendered.spec).files().filter((f) => /\.ya?ml$/.test(f.path));
    expect(yamlFiles.length).toBeGreaterThan(serviceNames().length * 6);
    for (const { path: file, content } of yamlFiles) {
      expect(parseYaml(content, { version: '1.1' }), file).toEqual(parseYaml(content, { version: '1.2' }));
    }
  });

  describe('Dockerfiles', () => {
    it('parse with dockerfile-ast and meet the rules, one per service', () => {
      for (const name of serviceNames()) {
        const service = rendered.spec.services[name]!;
        const problems = dockerfileProblems(rendered.read(`services/${name}/Dockerfile`), {
          service: name,
          port: service.port,
          livenessPath: service.health.liveness,
        });
        expect(problems, name).toEqual([]);
      }
    });

    it('run the CA-secret install step harmlessly when no secret is given', () => {
      const sandbox = tempDir('scaffold-ca-');
      try {
        for (const name of serviceNames()) {
          const runs = DockerfileParser.parse(rendered.read(`services/${name}/Dockerfile`))
            .getInstructions()
            .filter((i) => i.getKeyword() === 'RUN' && flagsOf(i).some((flag) => flag.getValue()?.includes('type=secret')));
          expect(runs.length, name).toBeGreaterThan(0);
          for (const run of runs) {
            // The shell command BuildKit would run, with npm replaced by a probe of its env.
            const command = run.getArgumentsContent()!;
            const output = execFileSync('sh', ['-c', `npm() { echo "NODE_EXTRA_CA_CERTS=\${NODE_EXTRA_CA_CERTS-unset}"; }\n${command}`], {
              cwd: sandbox,
              encoding: 'utf8',
              env: { PATH: process.env.PATH },
            });
            expect(output.trim(), name).toBe('NODE_EXTRA_CA_CERTS=unset');
          }
        }
      } finally {
        rmSync(sandbox, { recursive: true, force: true });
      }
    });

    it('.dockerignore at the root keeps installs, builds, history and logs out of the context', () => {
      const patterns = rendered.read('.dockerignore').split('\n');
      const service = serviceNames()[0];
      for (const ignored of [
        'node_modules/x/index.js', `services/${service}/node_modules/x/index.js`, 'dist/main.js',
        `services/${service}/dist/main.js`, '.scaffold/manifest.json', '.git/HEAD', 'coverage/index.html',
        `services/${service}/coverage/index.html`, 'logs/app.log', 'npm-debug.log', '.env',
      ]) {
        expect(dockerIgnores(patterns, ignored), ignored).toBe(true);
      }
      for (const kept of ['package.json', 'package-lock.json', 'tsconfig.base.json', `services/${service}/package.json`, `services/${service}/src/main.ts`]) {
        expect(dockerIgnores(patterns, kept), kept).toBe(false);
      }
    });
  });

  describe('compose.yaml', () => {
    let compose: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    beforeAll(() => {
      compose = parseYaml(rendered.read('compose.yaml'));
    });

    it('validates against the compose-spec JSON schema', () => {
      expect(composeSchemaProblems(compose)).toEqual([]);
      expect(compose.name).toBe(rendered.spec.name);
    });

    it('publishes ports on 127.0.0.1 only: fixed for one replica, ephemeral for several', () => {
      expect(composePortProblems(compose)).toEqual([]);
      for (const name of serviceNames()) {
        const { port, replicas } = rendered.spec.services[name]!;
        const ports = compose.services[name].ports.map((p: string) => parsePort(p));
        expect(ports, name).toEqual([
          { hostIp: '127.0.0.1', published: replicas > 1 ? undefined : String(port), target: String(port), protocol: undefined },
        ]);
      }
      for (const kind of Object.keys(rendered.spec.infrastructure)) expect(compose.services[kind].ports, kind).toBeUndefined();
    });

    it('starts each service after its upstreams and infrastructure are healthy', () => {
      expect(composeDependsOnProblems(compose)).toEqual([]);
      for (const name of serviceNames()) {
        const service = rendered.spec.services[name]!;
        const waitsFor = Object.keys(compose.services[name].depends_on ?? {}).sort();
        expect(waitsFor, name).toEqual([...dependenciesOf(service), ...service.uses].sort());
      }
    });

    it('builds each image from the root with a pinned, overridable base image', () => {
      for (const name of serviceNames()) {
        const { build, image } = compose.services[name];
        expect(build.context, name).toBe('.');
        expect(readFileSync(path.join(rendered.dir, build.context, build.dockerfile), 'utf8')).toContain(`services/${name}`);
        const base = /^\$\{BASE_IMAGE:-(?<image>[^}]+)\}$/.exec(build.args.BASE_IMAGE)?.groups?.image;
        expect(base, name).toBeDefined();
        expect(imageReferenceProblems(base!, 'BASE_IMAGE default')).toEqual([]);
        expect(image, name).toBe(`${rendered.spec.name}/${name}:dev`);
      }
    });

    it('wires environment, health, restart, replicas and limits from the spec', () => {
      for (const name of serviceNames()) {
        const service = rendered.spec.services[name]!;
        const composed = compose.services[name];
        // traces go to the receiver `scaffold up` names in a variable, unless the spec's env
        // names an endpoint of its own
        const wired = { ...(composed.environment as Record<string, string>) };
        if (!Object.hasOwn(service.env, 'OTEL_EXPORTER_OTLP_ENDPOINT')) {
          expect(wired.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('${SCAFFOLD_OTLP_ENDPOINT:-}');
          expect(composed.extra_hosts, name).toEqual(['host.docker.internal:host-gateway']);
          delete wired.OTEL_EXPORTER_OTLP_ENDPOINT;
        }
        // compose interpolates "$": a literal one is written "$$"
        const environment = Object.fromEntries(Object.entries(wired).map(([key, value]) => [key, value.replaceAll('$$', '$')]));
        expect(environment, name).toEqual(expectedEnvironment(rendered.spec, name));
        for (const value of Object.values(wired)) {
          expect(value.replaceAll('$$', ''), `${name}: unescaped "$"`).not.toContain('$');
        }
        for (const [key, url] of Object.entries(environment)) {
          if (!key.endsWith('_URL') || !(url as string).startsWith('http://')) continue;
          const { hostname, port } = new URL(url as string);
          expect(rendered.spec.services[hostname]?.port, `${name} ${key}`).toBe(Number(port));
        }
        const test = composed.healthcheck.test as string[];
        expect(test.slice(0, 3), name).toEqual(['CMD', 'node', '-e']);
        expect(test.join(' '), name).toContain(service.health.liveness);
        expect(test.join(' '), name).not.toContain('$');
        for (const field of ['interval', 'timeout', 'start_period']) expect(composed.healthcheck[field], `${name} ${field}`).toMatch(/^\d+s$/);
        expect(composed.healthcheck.retries, name).toBeGreaterThan(0);
        expect(composed.restart, name).toBe(service.restart);
        expect(composed.deploy.replicas, name).toBe(service.replicas);
        const { cpu, memory } = service.resources.limits;
        expect(Number(composed.deploy.resources.limits.cpus), name).toBe(cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu));
        expect(composed.deploy.resources.limits.memory, name).toBe(memory.replace(/i$/, ''));
      }
    });

    it('runs the declared infrastructure pinned (or from the spec\'s image), health-checked, its data on a named volume', () => {
      const kinds = Object.keys(rendered.spec.infrastructure).sort();
      // besides the spec's services and these, only opt-in ones (a profile: monitoring)
      const always = Object.keys(compose.services).filter((name) => compose.services[name].profiles === undefined);
      expect(always.filter((name) => !serviceNames().includes(name)).sort()).toEqual(kinds);
      for (const kind of kinds) {
        const service = compose.services[kind];
        const { image } = rendered.spec.infrastructure[kind]!;
        if (image) expect(service.image, kind).toBe(image);
        else expect(service.image, kind).toMatch(new RegExp(`^${kind}:`));
        expect(imageReferenceProblems(service.image, kind)).toEqual([]);
        expect(service.healthcheck?.test?.[0], kind).toBe('CMD');
        const [volume, mountPath] = (service.volumes[0] as string).split(':');
        expect(compose.volumes, kind).toHaveProperty(volume!);
        expect(mountPath, kind).toBe(DATA_PATHS[kind as keyof typeof DATA_PATHS]);
      }
      if (kinds.length === 0) expect(compose.volumes).toBeUndefined();
    });
  });

  describe('Kubernetes', () => {
    it('the base lists every per-service and per-server file, and no kustomization uses a deprecated field', () => {
      const base = parseYaml(rendered.read('deploy/k8s/base/kustomization.yaml'));
      const files = [...serviceNames(), ...Object.keys(rendered.spec.infrastructure)].flatMap((name) =>
        readdirSync(path.join(rendered.dir, 'deploy/k8s/base', name)).map((entry) => `${name}/${entry}`),
      );
      expect([...base.resources].sort()).toEqual(files.sort());
      for (const name of serviceNames()) {
        expect(readdirSync(path.join(rendered.dir, 'deploy/k8s/base', name)).sort()).toEqual(
          ['configmap.yaml', 'deployment.yaml', 'hpa.yaml', 'networkpolicy.yaml', 'pdb.yaml', 'service.yaml'],
        );
      }
      for (const name of Object.keys(rendered.spec.infrastructure)) {
        expect(readdirSync(path.join(rendered.dir, 'deploy/k8s/base', name)).sort()).toEqual(['networkpolicy.yaml', 'service.yaml', 'statefulset.yaml']);
      }
      for (const kustomization of ['base', 'overlays/dev', 'overlays/prod']) {
        const document = parseYaml(rendered.read(`deploy/k8s/${kustomization}/kustomization.yaml`));
        for (const deprecated of ['commonLabels', 'bases', 'patchesStrategicMerge', 'patchesJson6902', 'vars']) {
          expect(document, `${kustomization}: ${deprecated}`).not.toHaveProperty(deprecated);
        }
      }
    });

    describe.each([
      { overlay: 'dev', namespace: (project: string) => `${project}-dev` },
      { overlay: 'prod', namespace: (project: string) => project },
    ])('the $overlay overlay', ({ overlay, namespace }) => {
      let objects: KubeObject[];
      const all = (kind: string) => objects.filter((object) => object.kind === kind);
      const one = (kind: string, name: string) => {
        const found = objects.filter((object) => object.kind === kind && object.metadata.name === name);
        expect(found, `${kind}/${name}`).toHaveLength(1);
        return found[0]!;
      };

      const compose = () => parseYaml(rendered.read('compose.yaml'));

      beforeAll(() => {
        objects = kustomize(path.join(rendered.dir, 'deploy/k8s/overlays', overlay));
      });

      it('renders with kubectl kustomize, every object valid against the Kubernetes 1.27 schemas', () => {
        expect(objects.length).toBeGreaterThan(0);
        expect(objects.flatMap(kubernetesSchemaProblems)).toEqual([]);
        const kinds = new Set(objects.map((object) => object.kind));
        const infrastructure = Object.keys(rendered.spec.infrastructure).length > 0 ? ['StatefulSet'] : [];
        const expectedKinds = ['ConfigMap', 'Deployment', 'Namespace', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', ...infrastructure];
        expect([...kinds].sort()).toEqual(overlay === 'prod' ? [...expectedKinds, 'HorizontalPodAutoscaler'].sort() : expectedKinds.sort());
      });

      it('puts everything in its namespace, which enforces Pod Security "restricted"', () => {
        const expected = namespace(rendered.spec.name);
        const [ns, ...others] = all('Namespace');
        expect(others).toEqual([]);
        expect(ns!.metadata.name).toBe(expected);
        expect(ns!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
        for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
          expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(expected);
          expect(object.metadata.labels?.['app.kubernetes.io/part-of'], `${object.kind}/${object.metadata.name}`).toBe(rendered.spec.name);
        }
      });

      it('runs every pod under the restricted profile, read-only, with all three probes', () => {
        expect(all('Deployment').map((d) => d.metadata.name).sort()).toEqual(serviceNames().sort());
        for (const name of serviceNames()) {
          const service = rendered.spec.services[name]!;
          const deployment = one('Deployment', name);
          const template = deployment.spec.template;
          expect(restrictedProblems(template.spec, template.metadata.annotations, name)).toEqual([]);
          expect(template.spec.securityContext.runAsUser, name).toBe(1000);
          expect(template.spec.securityContext.runAsGroup, name).toBe(1000);
          expect(template.spec.terminationGracePeriodSeconds, name).toBeGreaterThan(0);
          expect(selects(deployment.spec.selector, template.metadata.labels), name).toBe(true);
          expect(template.metadata.labels, name).toMatchObject({ ...podLabels(name), 'app.kubernetes.io/part-of': rendered.spec.name });

          const [container, ...sidecars] = template.spec.containers;
          expect(sidecars).toEqual([]);
          expect(container.securityContext.readOnlyRootFilesystem, name).toBe(true);
          const tmp = container.volumeMounts.find((mount: { mountPath: string }) => mount.mountPath === '/tmp');
          expect(template.spec.volumes.find((v: { name: string }) => v.name === tmp?.name)?.emptyDir, `${name}: /tmp`).toBeDefined();

          const port = container.ports.find((p: { containerPort: number }) => p.containerPort === service.port);
          expect(port, `${name}: containerPort`).toBeDefined();
          const probePath = (probe: string) => {
            const httpGet = container[probe]?.httpGet;
            expect(httpGet, `${name}: ${probe}`).toBeDefined();
            expect([port.name, service.port], `${name}: ${probe} port`).toContain(httpGet.port);
            return httpGet.path;
          };
          expect(probePath('startupProbe'), name).toBe(service.health.liveness);
          expect(probePath('livenessProbe'), name).toBe(service.health.liveness);
          expect(probePath('readinessProbe'), name).toBe(service.health.readiness);

          expect(container.resources, name).toEqual(service.resources);
          const configMaps = container.envFrom.filter((source: { configMapRef?: unknown }) => source.configMapRef);
          expect(configMaps.map((source: { configMapRef: { name: string } }) => source.configMapRef.name), name).toEqual([name]);
          expect(one('ConfigMap', name).data, name).toEqual(expectedEnvironment(rendered.spec, name));

          if (overlay === 'dev') expect(container.image, name).toBe(`${rendered.spec.name}/${name}:dev`);
          else expect(imageReferenceProblems(container.image, `${name} image`)).toEqual([]);
        }
      });

      it(overlay === 'dev' ? 'runs one replica of each, without autoscaling' : 'keeps the spec\'s replicas and autoscales from there', () => {
        for (const name of serviceNames()) {
          const { replicas } = rendered.spec.services[name]!;
          expect(one('Deployment', name).spec.replicas, name).toBe(overlay === 'dev' ? 1 : replicas);
        }
        if (overlay === 'dev') {
          expect(all('HorizontalPodAutoscaler')).toEqual([]);
          return;
        }
        expect(all('HorizontalPodAutoscaler')).toHaveLength(serviceNames().length);
        for (const name of serviceNames()) {
          const hpa = one('HorizontalPodAutoscaler', name);
          const { replicas } = rendered.spec.services[name]!;
          expect(hpa.apiVersion).toBe('autoscaling/v2');
          expect(hpa.spec.scaleTargetRef, name).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
          expect(hpa.spec.minReplicas, name).toBe(replicas);
          expect(hpa.spec.maxReplicas, name).toBeGreaterThan(replicas);
          expect(hpa.spec.metrics, name).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }));
        }
      });

      it('reaches each service at http://<name>:<port> through a ClusterIP Service', () => {
        for (const name of serviceNames()) {
          const { port } = rendered.spec.services[name]!;
          const service = one('Service', name);
          expect(service.spec.type ?? 'ClusterIP', name).toBe('ClusterIP');
          expect(service.spec.ports, name).toHaveLength(1);
          expect(service.spec.ports[0].port, name).toBe(port);
          const container = one('Deployment', name).spec.template.spec.containers[0];
          const target = container.ports.find((p: { name?: string; containerPort: number }) => p.name === service.spec.ports[0].targetPort || p.containerPort === service.spec.ports[0].targetPort);
          expect(target?.containerPort, `${name}: targetPort`).toBe(port);
          // it selects this service's pods and no other's
          for (const other of serviceNames()) {
            const labels = one('Deployment', other).spec.template.metadata.labels;
            expect(selects({ matchLabels: service.spec.selector }, labels), `${name} selects ${other}`).toBe(other === name);
          }
        }
      });

      it('never lets a PodDisruptionBudget block a node drain', () => {
        for (const name of serviceNames()) {
          const pdb = one('PodDisruptionBudget', name);
          const deployment = one('Deployment', name);
          expect(selects(pdb.spec.selector, deployment.spec.template.metadata.labels), name).toBe(true);
          const replicas: number = deployment.spec.replicas;
          const { maxUnavailable, minAvailable } = pdb.spec;
          const percent = (value: string) => Number(value.slice(0, -1)) / 100;
          const allowed = maxUnavailable !== undefined
            ? (typeof maxUnavailable === 'number' ? maxUnavailable : Math.ceil(replicas * percent(maxUnavailable)))
            : replicas - (typeof minAvailable === 'number' ? minAvailable : Math.ceil(replicas * percent(minAvailable)));
          expect(allowed, `${name}: disruptions allowed with ${replicas} replica(s)`).toBeGreaterThanOrEqual(1);
        }
      });

      it('admits ingress only from callers on the service port; entry points from anywhere', () => {
        for (const name of serviceNames()) {
          const { port, pattern } = rendered.spec.services[name]!;
          const policy = one('NetworkPolicy', name);
          expect(selects(policy.spec.podSelector, one('Deployment', name).spec.template.metadata.labels), name).toBe(true);
          expect(policy.spec.policyTypes, name).toContain('Ingress');
          const callers = callersOf(rendered.spec, name);
          const entryPoint = pattern === 'gateway' || callers.length === 0;
          expect(networkPolicyAdmits(policy, podLabels('intruder'), port), `${name}: from anywhere`).toBe(entryPoint);
          for (const caller of callers) {
            expect(networkPolicyAdmits(policy, podLabels(caller), port), `${name} from ${caller}`).toBe(true);
          }
          for (const from of [...callers, 'intruder']) {
            expect(networkPolicyAdmits(policy, podLabels(from), port + 1), `${name} from ${from} on another port`).toBe(false);
          }
          if (!entryPoint) {
            const peers = policy.spec.ingress.flatMap((rule: { from?: { podSelector: unknown }[] }) => rule.from ?? []);
            expect(peers.map((peer: any) => peer.podSelector.matchLabels['app.kubernetes.io/name']).sort(), name).toEqual(callers); // eslint-disable-line @typescript-eslint/no-explicit-any
          }
        }
      });

      it('runs each server as a StatefulSet under the restricted profile, its data on a claim, reached at the URL services get', () => {
        const kinds = Object.keys(rendered.spec.infrastructure);
        expect(all('StatefulSet').map((set) => set.metadata.name).sort()).toEqual([...kinds].sort());
        for (const kind of kinds) {
          const set = one('StatefulSet', kind);
          const template = set.spec.template;
          expect(set.spec.replicas, kind).toBe(1);
          expect(selects(set.spec.selector, template.metadata.labels), kind).toBe(true);
          expect(restrictedProblems(template.spec, template.metadata.annotations, kind)).toEqual([]);
          const [container, ...sidecars] = template.spec.containers;
          expect(sidecars).toEqual([]);
          expect(container.securityContext.readOnlyRootFilesystem, kind).toBe(true);
          const { image } = rendered.spec.infrastructure[kind]!;
          expect(container.image, kind).toBe(image ?? compose().services[kind].image);
          expect(container.readinessProbe.exec.command, kind).toEqual(compose().services[kind].healthcheck.test.slice(1));
          // the data on the claim, every other folder it writes in memory
          const [claim, ...others] = set.spec.volumeClaimTemplates;
          expect(others).toEqual([]);
          expect(claim.spec.accessModes, kind).toEqual(['ReadWriteOnce']);
          const dataMount = container.volumeMounts.find((mount: { name: string }) => mount.name === claim.metadata.name);
          expect(dataMount?.mountPath, kind).toBe(DATA_PATHS[kind as keyof typeof DATA_PATHS]);
          for (const mount of container.volumeMounts.filter((m: { name: string }) => m !== dataMount)) {
            expect(template.spec.volumes.find((v: { name: string }) => v.name === mount.name)?.emptyDir, `${kind}: ${mount.mountPath}`).toBeDefined();
          }

          // services reach it by the host and port of the URL they are given
          const clients = serviceNames().filter((name) => rendered.spec.services[name]!.uses.includes(kind));
          expect(clients.length, kind).toBeGreaterThan(0);
          for (const client of clients) {
            const url = Object.values(one('ConfigMap', client).data as Record<string, string>).filter((value) => URL.canParse(value)).map((value) => new URL(value)).find((u) => u.hostname === kind);
            expect(url, `${client} → ${kind}`).toBeDefined();
            const service = one('Service', kind);
            expect(service.spec.ports.map((p: { port: number }) => p.port), kind).toEqual([Number(url!.port)]);
            const target = container.ports.find((p: { name: string }) => p.name === service.spec.ports[0].targetPort);
            expect(target?.containerPort, kind).toBe(Number(url!.port));
            expect(selects({ matchLabels: service.spec.selector }, template.metadata.labels), kind).toBe(true);
            expect(networkPolicyAdmits(one('NetworkPolicy', kind), podLabels(client), Number(url!.port)), `${client} → ${kind}`).toBe(true);
          }
          for (const other of [...serviceNames().filter((name) => !clients.includes(name)), 'intruder']) {
            expect(networkPolicyAdmits(one('NetworkPolicy', kind), podLabels(other), one('Service', kind).spec.ports[0].port), `${other} → ${kind}`).toBe(false);
          }
        }
      });
    });
  });
});

describe('the base image option', () => {
  it('becomes the Dockerfiles\' ARG default and compose\'s BASE_IMAGE default', () => {
    const { spec } = parseSpec(INLINE_SPEC, 'scaffold.yaml');
    const tree = generateProject(spec, { baseImage: 'node:22.11-bookworm-slim' });
    for (const name of Object.keys(spec.services)) {
      expect(tree.read(`services/${name}/Dockerfile`)).toContain('\nARG BASE_IMAGE=node:22.11-bookworm-slim\n');
      expect(parseYaml(tree.read('compose.yaml')!).services[name].build.args.BASE_IMAGE).toBe('${BASE_IMAGE:-node:22.11-bookworm-slim}');
    }
  });
});

describe('the deployment validators catch what they are for', () => {
  const dockerfile = [
    'ARG BASE_IMAGE=node:24-bookworm-slim',
    'FROM ${BASE_IMAGE} AS deps',
    'RUN --mount=type=secret,id=npm_ca,required=false npm ci --workspace services/a',
    'FROM deps AS build',
    'RUN npm run build --workspace services/a',
    'FROM ${BASE_IMAGE} AS prod-deps',
    'RUN --mount=type=secret,id=npm_ca npm ci --omit=dev --workspace services/a',
    'FROM ${BASE_IMAGE} AS runtime',
    'ENV NODE_ENV=production',
    'COPY --from=prod-deps /app/node_modules /app/node_modules',
    'USER 1000:1000',
    'EXPOSE 3000',
    'HEALTHCHECK CMD ["node", "-e", "fetch(\'http://127.0.0.1:3000/healthz\')"]',
    'CMD ["node", "dist/main.js"]',
  ].join('\n');
  const expected = { service: 'a', port: 3000, livenessPath: '/healthz' };

  it('accept a good Dockerfile and name each broken rule', () => {
    expect(dockerfileProblems(dockerfile, expected)).toEqual([]);
    const broken = (from: string, to: string) => dockerfileProblems(dockerfile.replace(from, to), expected);
    expect(broken('USER 1000:1000', 'USER root')).toEqual([expect.stringContaining('numeric')]);
    expect(broken('USER 1000:1000', 'USER 0:0')).toEqual([expect.stringContaining('is root')]);
    expect(broken('CMD ["node", "dist/main.js"]', 'CMD node dist/main.js')).toEqual([expect.stringContaining('shell form')]);
    expect(broken('node:24-bookworm-slim', 'node:latest')).toEqual([expect.stringContaining('latest')]);
    expect(broken('node:24-bookworm-slim', 'node')).toEqual([expect.stringContaining('no tag')]);
    expect(broken('EXPOSE 3000', 'EXPOSE 3001')).toEqual([expect.stringContaining('EXPOSE')]);
    expect(broken('/healthz', '/')).toEqual([expect.stringContaining('does not probe')]);
    expect(broken('FROM ${BASE_IMAGE} AS deps', 'FROM node:24 AS deps')).toContainEqual(expect.stringContaining('first FROM'));
    expect(broken('--from=prod-deps', '--from=deps')).toEqual([expect.stringContaining('dev dependencies')]);
    expect(broken(' --omit=dev', '')).toContainEqual(expect.stringContaining('production dependencies only'));
    expect(broken('ENV NODE_ENV=production', 'ENV NODE_EXTRA_CA_CERTS=/ca.pem')).toContainEqual(expect.stringContaining('ENV/ARG'));
    expect(broken('--mount=type=secret,id=npm_ca,required=false ', '')).toEqual([expect.stringContaining('corporate CA')]);
    expect(broken('USER 1000:1000\n', '')).toEqual([expect.stringContaining('root')]);
    expect(broken('HEALTHCHECK', '# HEALTHCHECK')).toEqual([expect.stringContaining('no HEALTHCHECK')]);
    expect(dockerfileProblems(`# syntax=docker/dockerfile:1\n${dockerfile}`, expected)).toEqual([expect.stringContaining('syntax')]);
  });

  it('reject compose files that publish widely, wait only for "started", or break the schema', () => {
    const compose = {
      name: 'x',
      services: {
        a: { image: 'x/a', ports: ['127.0.0.1:3000:3000'], healthcheck: { test: ['CMD', 'true'] } },
        b: { image: 'x/b', ports: ['127.0.0.1::3001'], depends_on: { a: { condition: 'service_healthy' } } },
      },
    };
    expect([...composeSchemaProblems(compose), ...composePortProblems(compose), ...composeDependsOnProblems(compose)]).toEqual([]);
    const services = compose.services;
    expect(composePortProblems({ services: { ...services, a: { ...services.a, ports: ['3000:3000'] } } })).toHaveLength(1);
    expect(composePortProblems({ services: { ...services, a: { ...services.a, ports: ['0.0.0.0:3000:3000'] } } })).toHaveLength(1);
    expect(composeDependsOnProblems({ services: { ...services, b: { ...services.b, depends_on: ['a'] } } })).toHaveLength(1);
    expect(composeDependsOnProblems({ services: { ...services, b: { ...services.b, depends_on: { a: { condition: 'service_started' } } } } })).toHaveLength(1);
    expect(composeSchemaProblems({ ...compose, services: { a: { image: 'x', restart: false } } })).not.toEqual([]);
    expect(composeSchemaProblems({ ...compose, services: { a: { image: 'x', healthcheck: { interval: 'soon' } } } })).not.toEqual([]);
    expect(composeSchemaProblems({ ...compose, services: { a: { image: 'x', ports: ['localhost:80'] } } })).not.toEqual([]);
    expect(composeSchemaProblems({ ...compose, service: {} })).not.toEqual([]);
  });

  it('reject Kubernetes objects off the schema, and pods outside the restricted profile', () => {
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'a' },
      spec: { replicas: 'two', selector: {}, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } },
    };
    expect(kubernetesSchemaProblems(deployment)).toEqual([expect.stringContaining('replicas')]);
    expect(kubernetesSchemaProblems({ ...deployment, apiVersion: 'extensions/v1beta1' })).toEqual([expect.stringContaining('no schema')]);

    const good = {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'a', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    };
    expect(restrictedProblems(good)).toEqual([]);
    const container = good.containers[0]!;
    const withContainer = (securityContext: object) => ({ ...good, containers: [{ ...container, securityContext: { ...container.securityContext, ...securityContext } }] });
    expect(restrictedProblems(withContainer({ privileged: true }))).toHaveLength(1);
    expect(restrictedProblems(withContainer({ allowPrivilegeEscalation: true }))).toHaveLength(1);
    expect(restrictedProblems(withContainer({ capabilities: { drop: ['NET_RAW'] } }))).toHaveLength(1);
    expect(restrictedProblems(withContainer({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }))).toEqual([]);
    expect(restrictedProblems(withContainer({ capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } }))).toHaveLength(1);
    expect(restrictedProblems(withContainer({ runAsUser: 0 }))).toHaveLength(1);
    expect(restrictedProblems(withContainer({ seccompProfile: { type: 'Unconfined' } }))).toHaveLength(1);
    expect(restrictedProblems({ ...good, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } })).toHaveLength(1);
    expect(restrictedProblems({ ...good, hostNetwork: true })).toHaveLength(1);
    expect(restrictedProblems({ ...good, volumes: [{ name: 'h', hostPath: { path: '/' } }] })).toHaveLength(2);
    expect(restrictedProblems({ ...good, initContainers: [{ name: 'init' }] })).toHaveLength(2);
  });
});
