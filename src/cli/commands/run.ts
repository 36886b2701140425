import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { RUNTIME_NAMES, type Runtime, type SystemStatus } from '../../runtime/runtime.js';
import { UserError } from '../../errors.js';
import type { Output } from '../output.js';
import { wholeNumber } from '../parse.js';
import { formatStatus } from '../render-status.js';
import { runtimeFor } from '../runtime-for.js';
import type { Model } from '../../model/load.js';

const runtimeOption = () =>
  new Option('--runtime <name>', 'where the system runs (default: where "up" last started it, else process)').choices(RUNTIME_NAMES);

/** compose runs what `generate` writes (compose.yaml, the Dockerfiles): bring it up to
 * date with the spec first, as `generate` would; the runtime itself writes no file. */
async function generateForCompose(projectDir: string, loaded: Model): Promise<void> {
  const { regenerate } = await import('../../generators/operations.js');
  const { plan } = await regenerate({ projectDir, loaded });
  if (plan.conflicts.length > 0) {
    throw new UserError(`${plan.conflicts[0]!.path} changed outside scaffold, so compose.yaml cannot be brought up to date: revert it or run "scaffold generate --force"`);
  }
}

/** up, down, status, logs, scale, restart: the lifecycle of a running system. */
export function registerRun(program: Command): void {
  program
    .command('up')
    .description('build what changed, start every service, wait until all are healthy')
    .addOption(runtimeOption())
    .option('--build', 'rebuild every service first')
    .option('--attach', 'stay in the foreground, printing the logs; Ctrl+C stops everything')
    .option('--monitoring', 'process runtime: also run Prometheus (from PATH), scraping every instance, with the SLOs as alert rules')
    .option('--base-image <image>', 'compose: the base image of every Dockerfile (a mirror, a pinned digest)')
    .option('--ca-cert <file>', 'compose: a CA bundle npm trusts inside image builds (default: $NODE_EXTRA_CA_CERTS)')
    .action(async (options: { build?: boolean; attach?: boolean; monitoring?: boolean; baseImage?: string; caCert?: string }, command: Command) => {
      const { cli, runtime, model } = await runtimeFor(command);
      const onProgress = (line: string) => cli.output.info(line);
      if (runtime.name === 'process' && (options.baseImage || options.caCert)) {
        throw new UserError('--base-image and --ca-cert apply to image builds: use them with --runtime compose');
      }
      if (runtime.name !== 'process' && options.monitoring) {
        throw new UserError('--monitoring runs Prometheus on the process runtime; on compose, see "Monitoring" in the README');
      }
      const upOptions = { build: options.build, monitoring: options.monitoring, onProgress, baseImage: options.baseImage, caCert: options.caCert ?? process.env.NODE_EXTRA_CA_CERTS };
      if (runtime.name === 'compose' && upOptions.caCert && !existsSync(upOptions.caCert)) throw new UserError(`--ca-cert: no such file ${upOptions.caCert}`);
      if (runtime.name === 'compose') await generateForCompose(cli.cwd, await model());
      if (options.attach) {
        const served = await runtime.attach(upOptions);
        cli.output.data(served.status, `${formatStatus(served.status)}\nrunning in the foreground: Ctrl+C stops everything`);
        // as `docker compose up` does; under --json stdout holds the status alone
        const logs = cli.output.json ? undefined : followLogs(runtime, served.status, served.stopped, cli.output);
        await served.stopped;
        await logs;
        return;
      }
      const status = await runtime.up(upOptions);
      cli.output.data(status, `${formatStatus(status)}\nnext: scaffold status · scaffold logs <service> · scaffold down`);
    });

  program
    .command('down')
    .description('stop every process (or container and network) of the running system')
    .addOption(runtimeOption())
    .option('--volumes', 'also remove the infrastructure\'s data (compose: named volumes)')
    .action(async (options: { volumes?: boolean }, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      await runtime.down({ volumes: options.volumes });
      cli.output.data({ stopped: true }, 'stopped');
    });

  program
    .command('status')
    .description('services, their instances and health')
    .addOption(runtimeOption())
    .action(async (_options: object, command: Command) => {
      const { cli, runtime, model } = await runtimeFor(command);
      const running: SystemStatus = await runtime.status();
      // what the servers hold (topics) comes from the spec's declarations; a spec that no
      // longer parses leaves them out rather than hiding the rest
      const { withServerState } = await import('../../runtime/server-state.js');
      const loaded = await model().catch(() => undefined);
      // and the job queues, from the queues' Redis
      const { withQueues } = await import('../../runtime/queues.js');
      const status = loaded ? await withQueues(await withServerState(running, loaded.spec), loaded.project) : running;
      cli.output.data(status, formatStatus(status));
    });

  program
    .command('logs')
    .description("a service's logs merged by time, each line prefixed by its instance; or one trace's or request's lines across every service")
    .argument('[service]', 'required unless --trace or --request is given')
    .option('-f, --follow', 'keep printing new lines')
    .option('--trace <id>', "the lines of one trace (its trace_id), from every instance that ever ran, replaced ones included")
    .option('--request <id>', 'the lines of one request (its x-request-id), from every instance')
    .addOption(runtimeOption())
    .action(async (service: string | undefined, options: { follow?: boolean; trace?: string; request?: string }, command: Command) => {
      if (options.trace !== undefined && options.request !== undefined) throw new UserError('give --trace or --request, not both');
      if ((options.trace !== undefined || options.request !== undefined) && options.follow) throw new UserError('--trace and --request search what was written: leave out -f');
      if (service === undefined && options.trace === undefined && options.request === undefined) throw new UserError('name a service, or give --trace or --request to search every service');
      const { runtime } = await runtimeFor(command);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      for await (const line of runtime.logs(service, { follow: options.follow, trace: options.trace, request: options.request, signal: controller.signal })) {
        process.stdout.write(`${line}\n`);
      }
    });

  program
    .command('scale')
    .description('change the number of instances of a service, live')
    .argument('<service>')
    .argument('<replicas>', 'instances wanted', wholeNumber(0, 50))
    .addOption(runtimeOption())
    .action(async (service: string, replicas: number, _options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      const status = await runtime.scale(service, replicas);
      cli.output.data(status, `${service}: ${status.replicas} instance${status.replicas === 1 ? '' : 's'}`);
    });

  program
    .command('restart')
    .description('restart every instance of a service, one at a time')
    .argument('<service>')
    .addOption(runtimeOption())
    .action(async (service: string, _options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      const status = await runtime.restart(service);
      cli.output.data(status, `${service}: restarted ${status.replicas} instance${status.replicas === 1 ? '' : 's'}`);
    });
}

/** Every service's log lines on stdout as they come (`up --attach`), until `until` settles. */
async function followLogs(runtime: Runtime, status: SystemStatus, until: Promise<void>, output: Output): Promise<void> {
  const controller = new AbortController();
  until.then(
    () => controller.abort(),
    () => controller.abort(),
  );
  await Promise.all(
    status.services.map(async ({ name }) => {
      try {
        for await (const line of runtime.logs(name, { follow: true, signal: controller.signal })) process.stdout.write(`${line}\n`);
      } catch (error) {
        // once stopped, the logs' end is no news
        if (!controller.signal.aborted) output.error(`logs of ${name}: ${(error as Error).message}`);
      }
    }),
  );
}
