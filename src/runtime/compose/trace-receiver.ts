import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError } from '../../errors.js';
import { scaffoldPaths } from '../../scaffold-dir.js';
import type { Exec } from '../exec.js';
import { runPaths } from '../process/paths.js';
import { ended, isAlive, signal } from '../process-tree.js';
import type { ReceiverMessage } from './trace-receiver-main.js';

/**
 * Traces on compose: the process runtime's OTLP receiver, in a small detached process on
 * the host that `up` starts and `down` stops, writing the same span store
 * (.scaffold/run/traces/), so `scaffold traces`, `logs --trace` and the reports read a
 * compose run as they read a process one. compose.yaml sets each container's
 * OTEL_EXPORTER_OTLP_ENDPOINT to `${SCAFFOLD_OTLP_ENDPOINT:-}` and maps
 * host.docker.internal to the host (`host-gateway`: the host's address on Docker's default
 * bridge); every compose command this runtime runs sets the variable to the receiver, so a
 * `docker compose up` of the user's own leaves tracing off rather than pointing nowhere.
 *
 * On the host rather than in a container: nothing to build or pull (a container would need
 * the receiver's code and its protobuf decoder), and the store is written by the user's own
 * process, owned by them. It listens on the bridge's address only — not on every interface,
 * so nothing outside this machine reaches it — or, when that address is not this host's
 * (Docker Desktop's engine runs in a VM, which forwards host.docker.internal to the host's
 * loopback), on loopback.
 */
export const OTLP_VARIABLE = 'SCAFFOLD_OTLP_ENDPOINT';

const MAIN = fileURLToPath(new URL('./trace-receiver-main.js', import.meta.url));
const START_TIMEOUT_MS = 10_000;

interface ReceiverRecord {
  pid: number;
  host: string;
  port: number;
}

function files(projectDir: string) {
  const dir = scaffoldPaths(projectDir).composeTraces;
  return { dir, record: path.join(dir, 'receiver.json'), log: path.join(dir, 'receiver.log') };
}

function readRecord(projectDir: string): ReceiverRecord | undefined {
  const { record } = files(projectDir);
  if (!existsSync(record)) return undefined;
  try {
    return JSON.parse(readFileSync(record, 'utf8')) as ReceiverRecord;
  } catch {
    return undefined;
  }
}

/** Alive, and ours: after a reboot its pid may be another process's. */
function running(record: ReceiverRecord | undefined): boolean {
  if (record === undefined || !isAlive(record.pid)) return false;
  const cmdline = `/proc/${record.pid}/cmdline`;
  return !existsSync('/proc') || (existsSync(cmdline) && readFileSync(cmdline, 'utf8').includes(MAIN));
}

/** What the compose commands of this run get in their environment: the receiver's address
 * as containers reach it, when it runs. */
export function traceEnvironment(projectDir: string): Record<string, string> {
  const record = readRecord(projectDir);
  return record !== undefined && running(record) ? { [OTLP_VARIABLE]: `http://host.docker.internal:${record.port}` } : {};
}

/** Starts the receiver unless it runs (again on its last port, so the containers' setting
 * does not change and compose recreates nothing). */
export async function ensureTraceReceiver(projectDir: string, exec: Exec, docker: string): Promise<void> {
  const last = readRecord(projectDir);
  if (last !== undefined && running(last)) return;
  const { dir, record } = files(projectDir);
  mkdirSync(dir, { recursive: true });
  let started: ReceiverRecord | undefined;
  let failure: unknown;
  for (const host of await listenAddresses(exec, docker)) {
    // its last port first; taken meanwhile, any free one
    for (const port of last?.host === host ? [last.port, 0] : [0]) {
      started ??= await launch(projectDir, host, port).catch((error: unknown) => void (failure ??= error));
    }
  }
  if (started === undefined) throw failure;
  await writeFileAtomic(record, JSON.stringify(started));
}

/** Stops the receiver (after the containers, which flush their last spans as they stop). */
export async function stopTraceReceiver(projectDir: string): Promise<void> {
  const record = readRecord(projectDir);
  if (record !== undefined && running(record)) {
    signal(record.pid, 'SIGTERM');
    await ended(record.pid);
  }
  rmSync(files(projectDir).record, { force: true });
}

/** Where containers reach the host as host-gateway, in the order to try: the default
 * bridge's gateway (not listed among this host's addresses while no container uses that
 * bridge, but bound all the same), then loopback, for an engine in a VM whose gateway is
 * not this host's. An engine may record the bridge's subnet and no gateway (Debian 12's
 * Docker 20.10 did on a fresh machine, and the spans went to a receiver on loopback, out
 * of the containers' reach): the bridge then holds the subnet's first address, which is
 * what host-gateway names (a guess that is not this host's fails to bind, and the next
 * address is tried). */
async function listenAddresses(exec: Exec, docker: string): Promise<string[]> {
  const format = '{{range .IPAM.Config}}{{.Gateway}} {{end}}|{{range .IPAM.Config}}{{.Subnet}} {{end}}';
  const { stdout } = await exec(docker, ['network', 'inspect', 'bridge', '--format', format]).catch(() => ({ stdout: '' }));
  const [gateways = '', subnets = ''] = stdout.split('|');
  const recorded = gateways.split(/\s+/).filter((address) => isIP(address) !== 0);
  const guessed = recorded.length > 0 ? [] : subnets.split(/\s+/).flatMap(firstAddressOf);
  return [...recorded, ...guessed, '127.0.0.1'];
}

/** 172.17.0.0/16 → 172.17.0.1 (IPv4 only). */
function firstAddressOf(subnet: string): string[] {
  const [network = '', bits] = subnet.split('/');
  if (!isIPv4(network) || Number(bits) > 30) return [];
  const value = network.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) + 1;
  return [[24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.')];
}

function launch(projectDir: string, host: string, port: number): Promise<ReceiverRecord> {
  const { log } = files(projectDir);
  const output = openSync(log, 'a');
  const child = spawn(process.execPath, [MAIN, runPaths(projectDir).traces, host, String(port)], { detached: true, stdio: ['ignore', output, output, 'ipc'] });
  closeSync(output);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new EnvironmentError(`the trace receiver did not start within ${START_TIMEOUT_MS / 1000} s`, [`see ${log}`]));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => reject(new EnvironmentError(`could not start the trace receiver (${error.message})`)));
    child.once('message', (message: ReceiverMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') {
        child.unref();
        resolve({ pid: child.pid!, host, port: message.port });
      } else reject(new EnvironmentError(`the trace receiver could not listen on ${host}: ${message.message}`, [`see ${log}`]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`the trace receiver exited (code ${code}) before it listened`, [`see ${log}`]));
    });
  });
}
