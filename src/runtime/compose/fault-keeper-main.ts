/**
 * One fault on compose containers, held by a detached process of its own until its
 * deadline (or SIGTERM from `chaos clear`), then undone: so a CLI that dies mid-fault
 * leaves nothing behind. Two kinds:
 * - `docker`: pause or partition, done and undone with the docker client from the host;
 * - `proxy`: started by `nsenter -n` inside one container's network namespace, a fault
 *   proxy (../proxy/, the one the process runtime's ports use: HTTP for a service, bytes
 *   for an infrastructure server) on a spare port, with iptables sending the container
 *   port's new connections through it and resetting the ones opened before.
 * It reports `ready` or `failed` over IPC and writes its log to stdout.
 */
import { execFileSync } from 'node:child_process';
import type { Fault } from '../faults.js';
import { freePort } from '../process/ports.js';
import { faultProxy } from '../proxy/fault-proxy.js';

/** `durationMs` counts from when the fault is on: applying it can take a second. */
export type KeeperConfig = { durationMs: number } & (
  | { kind: 'pause'; docker: string; containers: string[] }
  | { kind: 'partition'; docker: string; containers: { name: string; networks: [string, string[]][] }[] }
  /** `sources`: only connections from these addresses (one caller's containers) */
  | { kind: 'proxy'; service: string; port: number; layer: 'http' | 'bytes'; fault: Fault; tag: string; sources?: string[] }
);

export type KeeperMessage = { type: 'ready'; expiresAt: number } | { type: 'failed'; message: string };

const DRAIN_MS = 1000;

const config = JSON.parse(process.argv[2]!) as KeeperConfig;

/** Runs a command, returning whether it worked; undo steps go on past a failure. The
 * keeper outlives the CLI that started it, so its commands are shown in its own log (the
 * CLI's --verbose cannot show them). */
function run(file: string, args: string[]): boolean {
  console.log(`$ ${[file, ...args].join(' ')}`);
  try {
    execFileSync(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    return true;
  } catch {
    return false;
  }
}

function must(file: string, args: string[]): void {
  if (!run(file, args)) throw new Error(`"${[file, ...args].join(' ')}" failed`);
}

async function apply(): Promise<() => Promise<void> | void> {
  switch (config.kind) {
    case 'pause': {
      const { docker, containers } = config;
      must(docker, ['pause', ...containers]);
      return () => void run(docker, ['unpause', ...containers]);
    }
    case 'partition': {
      const { docker, containers } = config;
      for (const container of containers) {
        for (const [network] of container.networks) must(docker, ['network', 'disconnect', '--force', network, container.name]);
      }
      return () => {
        for (const container of containers) {
          for (const [network, aliases] of container.networks) {
            run(docker, ['network', 'connect', ...aliases.flatMap((alias) => ['--alias', alias]), network, container.name]);
          }
        }
      };
    }
    case 'proxy': {
      const proxy = faultProxy({ name: config.service, port: await freePort(), host: '0.0.0.0', target: config.port, layer: config.layer });
      await proxy.listen();
      proxy.faults = [config.fault];
      const tagged = [...(config.sources ? ['-s', config.sources.join(',')] : []), '-m', 'comment', '--comment', config.tag];
      const redirect = ['PREROUTING', '-t', 'nat', '-p', 'tcp', '--dport', String(config.port), ...tagged, '-j', 'REDIRECT', '--to-ports', String(proxy.port)];
      // connections opened before this fault keep their old route (conntrack): straight to
      // the service, or to an earlier fault's proxy. Resetting them makes callers' keep-alive
      // pools reconnect through this proxy, so the newest fault on a service is the one in force.
      const cut = ['INPUT', '!', '-i', 'lo', '-p', 'tcp', '!', '--dport', String(proxy.port), '-m', 'conntrack', '--ctorigdstport', String(config.port), ...tagged, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
      // inserted above an earlier fault's rules, whose cut would reset this proxy's traffic
      const accept = ['INPUT', '-p', 'tcp', '--dport', String(proxy.port), ...tagged, '-j', 'ACCEPT'];
      const rules = [redirect, cut, accept];
      for (const rule of rules) must('iptables', ['-w', '-I', ...rule]);
      // The ones opened before are aborted at once (`ss -K`: the kernel resets them), so an idle
      // keep-alive connection is gone before its caller's next request, which then connects
      // through this proxy instead of meeting the cut. The cut stays for what this cannot
      // abort (no ss, or a kernel without socket destroy). Not the loopback's: the proxies'
      // own upstreams.
      const ports = [config.port, ...earlierProxies(config.port, proxy.port)].map((port) => `sport = :${port}`).join(' or ');
      const peers = config.sources ? ` and ( ${config.sources.map((source) => `dst ${source}`).join(' or ')} )` : '';
      run('ss', ['-K', '-t', '-n', 'state', 'established', `( ${ports} ) and not dst 127.0.0.1${peers}`]);
      return async () => {
        // new connections go straight to the service again. The cut goes first: it would
        // reset them, as they come to the service's port (a caller whose every request
        // opened one, as an error fault's `connection: close` makes it, saw a second of
        // resets after the fault, and its breaker opened). The ones through the proxy get
        // a moment without the fault to end, each after its next response (HTTP), before the
        // rest are cut.
        proxy.faults = [];
        for (const rule of [cut, redirect]) run('iptables', ['-w', '-D', ...rule]);
        proxy.retire();
        await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
        run('iptables', ['-w', '-D', ...accept]);
        await proxy.close();
      };
    }
  }
}

/** The ports of the fault proxies already in front of `port` (their redirects), but `own`. */
function earlierProxies(port: number, own: number): number[] {
  let rules: string;
  try {
    rules = execFileSync('iptables', ['-w', '-t', 'nat', '-S', 'PREROUTING'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return rules.split('\n').flatMap((rule) => {
    const redirect = /--dport (\d+) .*-j REDIRECT --to-ports (\d+)/.exec(rule);
    return redirect && Number(redirect[1]) === port && Number(redirect[2]) !== own ? [Number(redirect[2])] : [];
  });
}

let undo: (() => Promise<void> | void) | undefined;
let ending = false;

async function end(reason: string): Promise<never> {
  if (!ending) {
    ending = true;
    console.log(`${new Date().toISOString()} ending (${reason})`);
    await undo?.();
  }
  process.exit(0);
}

process.on('SIGTERM', () => void end('cleared'));
process.on('SIGINT', () => void end('interrupted'));
try {
  undo = await apply();
  const expiresAt = Date.now() + config.durationMs;
  console.log(`${new Date().toISOString()} applied ${config.kind} until ${new Date(expiresAt).toISOString()}`);
  setTimeout(() => void end('deadline'), config.durationMs);
  process.send?.({ type: 'ready', expiresAt } satisfies KeeperMessage);
  process.disconnect?.();
} catch (error) {
  await undo?.();
  process.send?.({ type: 'failed', message: (error as Error).message } satisfies KeeperMessage);
  process.exit(1);
}
