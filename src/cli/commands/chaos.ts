import { InvalidArgumentError, Option, type Command } from 'commander';
import { fieldAccepts } from '../../faults/field.js';
import { FAULT_KINDS, type Fault, type FaultField } from '../../faults/index.js';
import { addLoadOptions, loadSettings, type LoadFlags } from '../load-options.js';
import { httpUrl, timeOption } from '../parse.js';
import { formatJournal, formatUnderLoad } from '../render-load.js';
import { runtimeFor } from '../runtime-for.js';

const DEFAULT_FOR = '30s';
/** Under load, a kill's "during" phase: the time it takes to notice and heal. */
const KILL_WINDOW_MS = 5_000;
/** Requests/s under a fault when neither --load-rate nor -c is given: steady traffic, not a
 * stress test, so that what shows is the fault's doing, not a saturated CPU's (nor the
 * gateway's rate limit's, 1000/s per client by default). */
const STEADY_RATE = 100;

interface WithLoadFlags extends LoadFlags {
  withLoad?: boolean;
  target?: string;
  before: number;
  after: number;
}

/** --with-load and the load options: traffic before, during and after the fault. */
function withLoadOptions(command: Command): Command {
  return addLoadOptions(
    command
      .option('--with-load', 'send traffic (100 req/s by default) before, during and after the fault, and measure each phase')
      .option('--target <url>', 'where the traffic goes (default: through the gateway to the service, see the README)', httpUrl)
      .addOption(timeOption('--before <time>', 'steady state measured before the fault', '5s'))
      .addOption(timeOption('--after <time>', 'measured after the fault', '10s')),
    '--load-rate',
  );
}

/** Runs `act` on its own, or inside a measured load when --with-load is given. `on` is
 * the fault's service (and its caller, for a link fault). */
async function maybeUnderLoad(
  { cli, runtime, model }: Awaited<ReturnType<typeof runtimeFor>>,
  command: Command,
  flags: WithLoadFlags,
  faultMs: number,
  act: () => Promise<unknown>,
  on: { service: string; from?: string; recoverFromStart?: boolean },
): Promise<{ acted: unknown; measured?: import('../../simulate/chaos/under-load.js').UnderLoadResult }> {
  if (!flags.withLoad) return { acted: await act() };
  const { runUnderLoad } = await import('../../simulate/chaos/under-load.js');
  const { loadTowards } = await import('../../simulate/chaos/load-path.js');
  // told nothing of where, the traffic goes through the system to the fault
  const where = flags.target === undefined && flags.path === undefined ? loadTowards((await model()).spec, on.service, on.from) : { url: flags.target };
  const closedModel = command.getOptionValueSource('connections') === 'cli';
  const rate = flags.loadRate ?? (closedModel ? undefined : STEADY_RATE);
  const measured = await runUnderLoad({
    runtime,
    load: { projectDir: cli.cwd, spec: async () => (await model()).spec, ...loadSettings({ ...flags, rate }), ...where },
    beforeMs: flags.before,
    faultMs,
    afterMs: flags.after,
    act,
    recoverFromStart: on.recoverFromStart,
  });
  return { acted: measured.acted, measured };
}

/** A fault's parameter as a flag: required unless it has a default, checked against the
 * bounds its registry entry gives it. */
function faultOption(field: FaultField): Option {
  const option = new Option(field.flag, field.description);
  if (field.type === 'choice') option.choices(field.choices);
  else {
    option.argParser((value: string) => {
      const number = Number(value);
      if (value.trim() === '' || !fieldAccepts(field, number)) throw new InvalidArgumentError(field.expected);
      return number;
    });
  }
  if (field.default === undefined) option.makeOptionMandatory();
  else option.default(field.default);
  return option;
}

/** The options key commander keeps a flag's value under ("--jitter <ms>" → "jitter"). */
function optionName(field: FaultField): string {
  return new Option(field.flag).attributeName();
}

/** chaos: faults on the running system, each bounded in time and undone by the runtime. */
export function registerChaos(program: Command): void {
  const chaos = program.command('chaos').description('inject failures into the running system (every fault ends by itself)');

  withLoadOptions(
    chaos
      .command('kill-service')
      .description('kill instances the way a crash would, and measure the recovery')
      .argument('<service>')
      .option('--instance <id>', 'one instance (default: one at random)')
      .option('--all', 'every instance')
      .addOption(new Option('--signal <signal>', 'the signal sent').default('SIGKILL')),
  ).action(async (service: string, options: WithLoadFlags & { instance?: string; all?: boolean; signal: NodeJS.Signals }, command: Command) => {
    const context = await runtimeFor(command);
    const { cli, runtime } = context;
    const { killService } = await import('../../simulate/chaos/kill.js');
    const kill = () => killService(runtime, service, { instance: options.instance, all: options.all, signal: options.signal });
    const { acted, measured } = await maybeUnderLoad(context, command, options, KILL_WINDOW_MS, kill, { service, recoverFromStart: true });
    const result = acted as Awaited<ReturnType<typeof kill>>;
    const names = result.killed.map((instance) => `${instance.id} (pid ${instance.pid})`).join(', ');
    const recovery = result.recoveredInMs === null ? 'not healthy again within 30 s' : `healthy again in ${result.recoveredInMs} ms`;
    const line = `${options.signal} → ${names || 'no instance'}; ${recovery}`;
    cli.output.data(measured ? { ...result, underLoad: measured } : result, measured ? `${line}\n${formatUnderLoad(measured)}` : line);
    if (measured && !measured.load.passed) process.exitCode = 1;
  });

  withLoadOptions(
    chaos
      .command('pause')
      .description('freeze a service or server (SIGSTOP) and thaw it (SIGCONT) when the time is up')
      .argument('<service>')
      .option('--instance <id>', 'one instance (default: all)')
      .addOption(timeOption('--for <time>', 'how long', DEFAULT_FOR)),
  ).action(async (service: string, options: WithLoadFlags & { instance?: string; for: number }, command: Command) => {
    const context = await runtimeFor(command);
    const { cli, runtime } = context;
    const pause = () => runtime.pause(service, { instance: options.instance, durationMs: options.for });
    const { acted, measured } = await maybeUnderLoad(context, command, options, options.for, pause, { service });
    const paused = acted as Awaited<ReturnType<typeof pause>>;
    const line = `paused ${paused.map((i) => i.id).join(', ')} for ${options.for / 1000} s`;
    cli.output.data(measured ? { paused, underLoad: measured } : paused, measured ? `${line}\n${formatUnderLoad(measured)}` : line);
    if (measured && !measured.load.passed) process.exitCode = 1;
  });

  const fault = (name: string, description: string, configure: (command: Command) => Command, build: (options: Record<string, unknown>) => Fault) => {
    withLoadOptions(
      configure(
        chaos
          .command(name)
          .description(description)
          .argument('<service>')
          .addOption(timeOption('--for <time>', 'how long the fault lasts', DEFAULT_FOR))
          .option('--from <caller>', 'only the calls this service makes to it (one caller→service link)')
          .option('--wait', 'stay until the fault is over'),
      ),
    ).action(async (service: string, options: WithLoadFlags & Record<string, unknown>, command: Command) => {
      const context = await runtimeFor(command);
      const { cli, runtime } = context;
      const { faultTarget } = await import('../../runtime/faults.js');
      const { injectFault } = await import('../../simulate/chaos/inject.js');
      const inject = () => injectFault(runtime, service, build(options), options.for as number, options.from as string | undefined);
      const { acted, measured } = await maybeUnderLoad(context, command, options, options.for as number, inject, { service, from: options.from as string | undefined });
      const active = acted as Awaited<ReturnType<typeof inject>>;
      const line = `${active.id}: ${name} on ${faultTarget(active)} until ${active.expiresAt} (scaffold chaos clear ${active.id} ends it sooner)`;
      cli.output.data(measured ? { ...active, underLoad: measured } : active, measured ? `${line}\n${formatUnderLoad(measured)}` : line);
      if (measured && !measured.load.passed) process.exitCode = 1;
      if (options.wait && !measured) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(active.expiresAt) - Date.now())));
    });
  };

  for (const kind of FAULT_KINDS.values()) {
    fault(
      kind.kind,
      kind.description,
      (command) => Object.entries(kind.fields).reduce((c, [, field]) => c.addOption(faultOption(field)), command),
      (options) => ({ kind: kind.kind, ...Object.fromEntries(Object.keys(kind.fields).map((name) => [name, options[optionName(kind.fields[name]!)]])) }) as Fault,
    );
  }

  chaos
    .command('run')
    .description('run an experiment: hypothesis, method, hypothesis again, rollbacks; exit 1 when it deviated')
    .argument('<experiment>', 'a YAML file (scaffold schema experiment)')
    .option('--report <file>', 'also write a self-contained HTML report: the hypothesis table, and the background load with the fault windows')
    .option('--allow-remote', 'allow probes and load to reach a URL outside this machine')
    .action(async (file: string, options: { report?: string; allowRemote?: boolean }, command: Command) => {
      const { cli, runtime, model } = await runtimeFor(command);
      const { runExperiment } = await import('../../simulate/chaos/experiment.js');
      const journal = await runExperiment({ projectDir: cli.cwd, file, runtime, allowRemote: options.allowRemote, spec: async () => (await model()).spec });
      if (options.report) {
        const path = await import('node:path');
        const { writeExperimentReport } = await import('../../simulate/report/write.js');
        await writeExperimentReport(path.resolve(cli.cwd, options.report), journal, { projectDir: cli.cwd });
      }
      cli.output.data(journal, formatJournal(journal));
      if (journal.status !== 'held') process.exitCode = 1;
    });

  chaos
    .command('scenarios')
    .description('the experiments this system\'s topology suggests')
    .action(async (_options: object, command: Command) => {
      const { cli, model } = await runtimeFor(command);
      const { scenariosFor } = await import('../../simulate/chaos/scenarios.js');
      const plans = scenariosFor((await model()).spec);
      const lines = plans.map((plan) => `${plan.name.padEnd(22)} ${plan.notApplicable ? `(not applicable: ${plan.notApplicable})` : `${plan.description}; expects ${plan.expectation}`}`);
      cli.output.data(plans.map(({ run: _run, ...plan }) => plan), lines.join('\n'));
    });

  chaos
    .command('scenario')
    .description('run a built-in scenario; exit 1 when its expectation fails')
    .argument('<name>', 'see scaffold chaos scenarios')
    .action(async (name: string, _options: object, command: Command) => {
      const { cli, runtime, model } = await runtimeFor(command);
      const { scenariosFor } = await import('../../simulate/chaos/scenarios.js');
      const { UserError } = await import('../../errors.js');
      const plans = scenariosFor((await model()).spec);
      const plan = plans.find((candidate) => candidate.name === name);
      if (!plan) throw new UserError(`no scenario "${name}": choose ${plans.map((p) => p.name).join(', ')}`);
      if (!plan.run) throw new UserError(`${name} does not apply to this system: ${plan.notApplicable}`);
      cli.output.info(`${plan.name}: ${plan.description}; expects ${plan.expectation}`);
      const outcome = await plan.run(runtime, cli.cwd);
      const verdict = outcome.passed ? 'passed' : `FAILED: ${outcome.reasons.join('; ')}`;
      cli.output.data({ scenario: plan.name, ...outcome }, `${formatUnderLoad(outcome.measured)}\n${outcome.summary ? `${outcome.summary}\n` : ''}${plan.name} ${verdict}`);
      if (!outcome.passed) process.exitCode = 1;
    });

  chaos
    .command('list')
    .description('the faults in force')
    .action(async (_options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      const { faultTarget } = await import('../../runtime/faults.js');
      const faults = await runtime.faults();
      const lines = faults.map((f) => `${f.id.padEnd(10)} ${faultTarget(f).padEnd(24)} ${JSON.stringify(f.fault)}  until ${f.expiresAt}`);
      cli.output.data(faults, lines.join('\n') || 'no faults');
    });

  chaos
    .command('clear')
    .description('end one fault, or all of them')
    .argument('[id]')
    .action(async (id: string | undefined, _options: object, command: Command) => {
      const { cli, runtime } = await runtimeFor(command);
      await runtime.clearFaults(id);
      cli.output.data({ cleared: id ?? 'all' }, id ? `cleared ${id}` : 'cleared every fault');
    });
}
