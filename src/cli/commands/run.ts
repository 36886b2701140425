import { Option, type Command } from 'commander';
import { RUNTIME_NAMES, type SystemStatus } from '../../runtime/runtime.js';
import { wholeNumber } from '../parse.js';
import { formatStatus } from '../render-status.js';
import { runtimeFor } from '../runtime-for.js';

const runtimeOption = () => new Option('--runtime <name>', 'where the system runs').choices(RUNTIME_NAMES).default('process');


/** up, down, status, logs, scale, restart: the lifecycle of a running system. */
export function registerRun(program: Command): void {
  program
    .command('up')
    .description('build what changed, start every service, wait until all are healthy')
    .addOption(runtimeOption())
    .option('--build', 'rebuild every service first')
    .option('--attach', 'stay in the foreground; Ctrl+C stops everything')
    .action(async (options: { build?: boolean; attach?: boolean }, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      const onProgress = (line: string) => cli.output.info(line);
      if (options.attach) {
        const served = await runtime.attach({ build: options.build, onProgress });
        cli.output.data(served.status, `${formatStatus(served.status)}\nrunning in the foreground: Ctrl+C stops everything`);
        await served.stopped;
        return;
      }
      const status = await runtime.up({ build: options.build, onProgress });
      cli.output.data(status, `${formatStatus(status)}\nnext: scaffold status · scaffold logs <service> · scaffold down`);
    });

  program
    .command('down')
    .description('stop every process of the running system')
    .addOption(runtimeOption())
    .action(async (_options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      await runtime.down();
      cli.output.data({ stopped: true }, 'stopped');
    });

  program
    .command('status')
    .description('services, their instances and health')
    .addOption(runtimeOption())
    .action(async (_options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      const status: SystemStatus = await runtime.status();
      cli.output.data(status, formatStatus(status));
    });

  program
    .command('logs')
    .description("a service's logs, each line prefixed by its instance")
    .argument('<service>')
    .option('-f, --follow', 'keep printing new lines')
    .addOption(runtimeOption())
    .action(async (service: string, options: { follow?: boolean }, command: Command) => {
      const { runtime } = await runtimeFor(command);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      for await (const line of runtime.logs(service, { follow: options.follow, signal: controller.signal })) {
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
