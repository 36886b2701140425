import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../atomic-write.js';
import { EnvironmentError } from '../../errors.js';
import { scaffoldPaths } from '../../scaffold-dir.js';
import type { ActiveFault } from '../faults.js';
import { isAlive } from '../process-tree.js';
import type { KeeperConfig, KeeperMessage } from './fault-keeper-main.js';

const KEEPER = fileURLToPath(new URL('./fault-keeper-main.js', import.meta.url));
const STOP_TIMEOUT_MS = 10_000;

/** A keeper to start: in a container's network namespace when `netnsPid` is set. */
export interface KeeperLaunch {
  config: KeeperConfig;
  netnsPid?: number;
}

/** What a keeper holds: a fault, or a pause (which `chaos list` does not show). */
export type Held = ActiveFault | PauseHeld;
export type PauseHeld = { id: string; service: string; pause: true; expiresAt: string };

interface Record {
  held: Held;
  pids: number[];
}

const isPause = (held: Held): boolean => 'pause' in held;

/**
 * The faults in force on a compose run. Each is held by detached keeper processes (see
 * fault-keeper-main) that undo it at its deadline; this side starts them, lists the ones
 * still alive and stops them early.
 */
export class FaultKeepers {
  readonly #dir: string;

  constructor(projectDir: string) {
    this.#dir = scaffoldPaths(projectDir).composeFaults;
  }

  /** Starts the keepers; `held.expiresAt` becomes the time the last of them undoes it. */
  async start<T extends Held>(held: Omit<T, 'expiresAt'>, launches: KeeperLaunch[]): Promise<T> {
    mkdirSync(this.#dir, { recursive: true });
    const pids: number[] = [];
    let expiresAt = 0;
    try {
      for (const [index, launch] of launches.entries()) {
        const started = await this.#launch(`${held.id}-${index}`, launch);
        pids.push(started.pid);
        expiresAt = Math.max(expiresAt, started.expiresAt);
      }
    } catch (error) {
      await stop(pids);
      throw error;
    }
    const kept = { ...held, expiresAt: new Date(expiresAt).toISOString() } as T;
    await writeFileAtomic(this.#file(held.id), JSON.stringify({ held: kept, pids } satisfies Record));
    return kept;
  }

  list(): ActiveFault[] {
    return this.#records().flatMap(({ held }) => (isPause(held) ? [] : [held as ActiveFault]));
  }

  /** Stops the keepers of what matches (everything by default), which undo it as they exit. */
  async clear(match: { id?: string; service?: string; pause?: boolean } = {}): Promise<void> {
    const matches = ({ held }: Record) =>
      (match.id === undefined || held.id === match.id) && (match.service === undefined || held.service === match.service) && (match.pause === undefined || isPause(held) === match.pause);
    for (const record of this.#records().filter(matches)) {
      await stop(record.pids);
      rmSync(this.#file(record.held.id), { force: true });
    }
  }

  /** Records whose keepers are still alive; the others expired and are forgotten. */
  #records(): Record[] {
    if (!existsSync(this.#dir)) return [];
    return readdirSync(this.#dir)
      .filter((entry) => entry.endsWith('.json'))
      .flatMap((entry) => {
        const record = JSON.parse(readFileSync(path.join(this.#dir, entry), 'utf8')) as Record;
        if (record.pids.some(isAlive)) return [record];
        rmSync(path.join(this.#dir, entry), { force: true });
        return [];
      });
  }

  #file(id: string): string {
    return path.join(this.#dir, `${id}.json`);
  }

  #launch(name: string, launch: KeeperLaunch): Promise<{ pid: number; expiresAt: number }> {
    const log = openSync(path.join(this.#dir, `${name}.log`), 'a');
    const node = [process.execPath, KEEPER, JSON.stringify(launch.config)];
    const [file, ...args] = launch.netnsPid ? ['nsenter', '-t', String(launch.netnsPid), '-n', ...node] : node;
    const child = spawn(file!, args, { detached: true, stdio: ['ignore', log, log, 'ipc'] });
    closeSync(log);
    return new Promise((resolve, reject) => {
      child.once('error', (error) => reject(new EnvironmentError(`could not start the fault keeper (${error.message})`)));
      child.once('message', (message: KeeperMessage) => {
        if (message.type === 'ready') {
          child.unref();
          resolve({ pid: child.pid!, expiresAt: message.expiresAt });
        } else reject(new EnvironmentError(`the fault could not be applied: ${message.message}`, [`see ${path.join(this.#dir, `${name}.log`)}`]));
      });
      child.once('exit', (code) => reject(new EnvironmentError(`the fault keeper exited (code ${code}) before the fault was on`, [`see ${path.join(this.#dir, `${name}.log`)}`])));
    });
  }
}

async function stop(pids: number[]): Promise<void> {
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
}
