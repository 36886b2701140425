import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassicProject, scaffold, tempDir } from '../support/cli.js';
import { expectOneLineError } from '../support/one-line-error.js';
import { treeHash } from '../support/tree-hash.js';
import { LOAD_RESULT } from './bad-input-cases.js';

/**
 * A read-only and a full disk, for real: a small tmpfs per case. Mounting needs root (CI
 * runs the tests as root); elsewhere these cases are skipped, and say so.
 */

const isRoot = process.getuid?.() === 0;
const mounts: string[] = [];
let project: string;

if (!isRoot) console.warn('disk-errors.test.ts: not root, so no tmpfs can be mounted: the read-only and full-disk cases are skipped');

beforeAll(async () => {
  if (isRoot) project = await createClassicProject(tempDir('scaffold-disk-'));
}, 60_000);

afterAll(() => {
  for (const mount of mounts.splice(0)) {
    execFileSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  }
});

type Disk = { readOnly: true } | { room: number };

/** A small tmpfs holding a copy of the project, prepared, then made read-only or filled
 * until only `room` bytes are free. Returns the project folder. */
function diskWithProject(disk: Disk, prepare: (dir: string) => void = () => undefined): string {
  const mount = mkdtempSync(path.join(tmpdir(), 'scaffold-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
  mounts.push(mount);
  const dir = path.join(mount, 'shop');
  cpSync(project, dir, { recursive: true });
  prepare(dir);
  if ('readOnly' in disk) execFileSync('mount', ['-o', 'remount,ro', mount]);
  else fill(mount, disk.room);
  return dir;
}

/** Writes a filler file until the disk has only `room` bytes free. */
function fill(mount: string, room: number): void {
  const free = Number(execFileSync('df', ['--output=avail', '-B1', mount]).toString().split('\n')[1]);
  const fd = openSync(path.join(mount, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (let written = 0; written + chunk.length <= free - room; written += chunk.length) writeSync(fd, chunk);
  } catch {
    // full already
  } finally {
    closeSync(fd);
  }
}

/** Commands that write, each with what it needs in place first. */
const WRITES: [string, string[], (dir: string) => void][] = [
  ['new-service', ['new-service', 'extra', '--yes'], () => undefined],
  // a changed port: generate rewrites many files
  ['generate after an edit', ['generate'], (dir) => execFileSync('sed', ['-i', 's/port: 3001/port: 3011/', path.join(dir, 'scaffold.yaml')])],
  ['init', ['init', 'fresh', '--yes'], () => undefined],
  ['report -o', ['report', 'good.json', '-o', 'out.html'], (dir) => writeFileSync(path.join(dir, 'good.json'), JSON.stringify(LOAD_RESULT))],
];

const DISKS: [string, Disk, RegExp][] = [
  ['read-only', { readOnly: true }, /read-only/],
  ['full', { room: 0 }, /no space left/],
  // room for the first few files, not for all: the staged ones must go too
  ['almost full', { room: 48 * 1024 }, /no space left/],
];

describe.skipIf(!isRoot)('the disk refuses a write: exit 3, one line, nothing left behind', () => {
  for (const [name, disk, says] of DISKS) {
    it.each(WRITES)(`${name}: %s`, async (_what, args, prepare) => {
      const dir = diskWithProject(disk, prepare);
      const before = treeHash(path.dirname(dir));
      const result = await scaffold(args, { cwd: dir });
      expect(result.exitCode, result.stderr).toBe(3);
      expectOneLineError(result.stderr);
      expect(result.stderr).toMatch(says);
      expect(treeHash(path.dirname(dir)), 'something was written or left behind').toBe(before);
    });
  }

  it.each(WRITES)('with room enough, %s writes (the disks above refuse for real)', async (_what, args, prepare) => {
    const dir = diskWithProject({ room: 1024 * 1024 }, prepare);
    const result = await scaffold(args, { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
  });
});

describe('a folder that refuses new entries', () => {
  // Node's recursive mkdir retries for ever where mkdir says ENOENT under a folder that
  // exists (/proc): `init /proc/x` spun until killed
  it.each(['/proc/scaffold-x', '/proc/scaffold-x/shop'])('init %s ends at once with one line', async (dir) => {
    const result = await scaffold(['init', dir, '--yes'], { cwd: tempDir(), timeout: 10_000 });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: \/proc\/scaffold-x: no such file or folder/);
    expectOneLineError(result.stderr);
  });
});
