import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError, UserError } from '../../errors.js';
import { prometheusConfig, type TargetGroup } from '../../monitoring/prometheus-config.js';
import { sloRuleGroups } from '../../monitoring/rules.js';
import type { Spec } from '../../spec/schema.js';
import type { InfraArguments } from './infra-main.js';
import { Instance } from './instance.js';
import { instanceLog, type RunPaths } from './paths.js';
import { freePort } from './ports.js';
import { httpProbe } from './probes.js';
import { CONFIG_FILE } from './prometheus-server.js';

const INFRA_MAIN = fileURLToPath(new URL('./infra-main.js', import.meta.url));
const SERVER = new URL('./prometheus-server.js', import.meta.url).href;
export const PROMETHEUS_INSTALL = 'apt-get install prometheus, or brew install prometheus';
const TARGETS_FILE = 'targets.json';
const RULES_FILE = 'rules.json';
const START_TIMEOUT_MS = 60_000;

/**
 * `scaffold up --monitoring`: a Prometheus of the run's own, under the supervisor like an
 * infrastructure server (restarted if it crashes, gone with the run). It scrapes every
 * instance on its own port, never a front port (which would mix replicas), and finds them
 * in a file the supervisor rewrites, atomically, whenever an instance comes or goes.
 */
export class LocalPrometheus {
  readonly #dir: string;
  readonly #spec: Spec;
  readonly #paths: RunPaths;
  #instance: Instance | undefined;
  #written = '';
  #writing: Promise<void> = Promise.resolve();

  constructor(spec: Spec, paths: RunPaths) {
    this.#spec = spec;
    this.#paths = paths;
    this.#dir = path.join(paths.run, 'prometheus');
  }

  get url(): string | undefined {
    return this.#instance && `http://127.0.0.1:${this.#instance.port}`;
  }

  get pid(): number | null {
    return this.#instance?.pid ?? null;
  }

  /** Writes its configuration and rules, starts it with no targets yet, and resolves
   * once it answers ready. Exit 3 without a `prometheus` on PATH. */
  async start(onPath: (command: string) => boolean): Promise<void> {
    if (!onPath('prometheus')) {
      throw new EnvironmentError(`--monitoring needs prometheus on PATH: install it (${PROMETHEUS_INSTALL}) or leave out --monitoring`);
    }
    mkdirSync(this.#dir, { recursive: true });
    const config = prometheusConfig(this.#spec, { targetFiles: [TARGETS_FILE], ruleFiles: [RULES_FILE] });
    await writeFileAtomic(path.join(this.#dir, RULES_FILE), `${JSON.stringify({ groups: sloRuleGroups(this.#spec) }, null, 2)}\n`);
    await writeFileAtomic(path.join(this.#dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    await this.updateTargets([]);
    const port = await freePort();
    const args: InfraArguments = { server: SERVER, name: 'prometheus', port, dataDir: this.#dir, project: this.#spec.name };
    this.#instance = new Instance({
      id: 'prometheus',
      port,
      cwd: this.#dir,
      entry: INFRA_MAIN,
      args: [JSON.stringify(args)],
      env: {},
      logFile: instanceLog(this.#paths, 'prometheus'),
      probe: httpProbe('/-/ready'),
      restart: 'always',
      group: true,
      onReadiness: () => undefined,
    });
    this.#instance.start();
    try {
      await this.#instance.waitHealthy(START_TIMEOUT_MS);
    } catch (error) {
      throw new UserError(`prometheus did not start: ${(error as Error).message}; see ${path.relative(process.cwd(), instanceLog(this.#paths, 'prometheus'))}`);
    }
  }

  /** Rewrites the targets file when the instances changed (Prometheus rereads it on its
   * own); writes go out in order, each one whole. */
  updateTargets(groups: TargetGroup[]): Promise<void> {
    const content = `${JSON.stringify(groups, null, 2)}\n`;
    if (content === this.#written) return this.#writing;
    this.#written = content;
    this.#writing = this.#writing.then(() => writeFileAtomic(path.join(this.#dir, TARGETS_FILE), content));
    return this.#writing;
  }

  async stop(graceMs: number): Promise<void> {
    await this.#writing.catch(() => undefined);
    await this.#instance?.stop(graceMs);
  }
}
