import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { descendants, ended, isAlive } from '../../src/runtime/process-tree.js';
import { waitUntil } from '../support/services.js';

describe('isAlive', () => {
  it('counts a zombie (ended, never reaped by its parent) as ended', async () => {
    // the shell execs into a sleep that never waits for the shell's short-lived child
    const parent = execa('sh', ['-c', 'sleep 0.1 & exec sleep 30'], { reject: false });
    await waitUntil(async () => descendants(parent.pid!).length === 1, 5_000);
    const [child] = descendants(parent.pid!);
    await waitUntil(async () => readFileSync(`/proc/${child}/stat`, 'utf8').includes(') Z '), 5_000);
    expect(() => process.kill(child!, 0)).not.toThrow(); // the kernel still holds its entry
    expect(isAlive(child!)).toBe(false);
    expect(isAlive(parent.pid!)).toBe(true);
    parent.kill();
    await parent;
  });
});

describe('descendants', () => {
  it('finds children and grandchildren, which a signal to the parent alone would leave behind', async () => {
    // a subshell, and a sleep under it: as in an npm script's `sleep 5 && tsc`
    const shell = execa('sh', ['-c', '(sleep 30; true) & wait'], { reject: false });
    await waitUntil(async () => descendants(shell.pid!).length === 2, 5_000);
    const tree = descendants(shell.pid!);
    const commands = tree.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    expect(commands).toEqual(['sh -c (sleep 30; true) & wait', 'sleep 30']);

    for (const pid of [...tree, shell.pid!]) process.kill(pid, 'SIGTERM');
    await ended(shell.pid!);
    await shell;
    // the orphaned sleep is reaped by init, a moment later
    await waitUntil(async () => tree.every((pid) => !isAlive(pid)), 5_000);
  });
});
