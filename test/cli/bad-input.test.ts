import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { createClassicProject, scaffold, tempDir } from '../support/cli.js';
import { expectOneLineError } from '../support/one-line-error.js';
import { treeHash } from '../support/tree-hash.js';
import { badInputs, type BadInput, type Entry } from './bad-input-cases.js';

/**
 * The contract for bad input, case by case: the exit code, one "error:" line (a case
 * listing several problems may add its first few, indented), no stack, no raw control
 * character, nothing on stdout, and the project byte for byte as it was.
 *
 * Every case runs in-process through the CLI's own entry (`runCli`, what bin/scaffold.js
 * runs) with stdout and stderr captured, one at a time (in a copy of the project when it
 * brings files of its own): a spawned Node costs ~0.25 s of CPU before it parses a flag,
 * which for 500+ cases is minutes on a 2-core machine, while in-process most cases take
 * a few milliseconds. One case in twenty also runs through the real binary, several at
 * once, so that what users run (the launcher, real exit codes and streams) is held to the
 * same contract.
 */

let base: string;

beforeAll(async () => {
  base = await createClassicProject(tempDir('scaffold-bad-input-'));
}, 60_000);

/** A private copy of the project with the case's files in place. */
function projectFor(files: Record<string, Entry> = {}): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'scaffold-bad-input-')), 'shop');
  cpSync(base, dir, { recursive: true });
  for (const [relative, entry] of Object.entries(files)) {
    const file = path.join(dir, relative);
    rmSync(file, { recursive: true, force: true });
    if (entry === null) continue;
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof entry === 'string') writeFileSync(file, entry);
    else if ('folder' in entry) mkdirSync(file);
    else symlinkSync(entry.link, file);
  }
  return dir;
}

/** One CLI run in this process, in `cwd`, with its streams captured. */
async function runInProcess(args: string[], cwd: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (stream: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array) => {
      captured[stream] += String(chunk);
      return true;
    }) as typeof process.stdout.write;
  const home = process.cwd();
  process.chdir(cwd);
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  try {
    const exitCode = await runCli(['node', 'scaffold', ...args]);
    return { exitCode, ...captured };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.chdir(home);
    process.exitCode = undefined;
  }
}

const cases = badInputs();
const named = cases.map((c): [string, BadInput] => [`${JSON.stringify(c.args)}${c.files ? ` with ${JSON.stringify(c.files).slice(0, 80)}` : ''}`, c]);

/** Runs one case: in the shared project when it needs no files of its own and runs
 * alone (a change shows in its own before/after hashes), else in a copy it removes. */
async function check({ args, exit, files, says, details }: BadInput, run: typeof runInProcess, shared: boolean): Promise<void> {
  const dir = files === undefined && shared ? base : projectFor(files);
  try {
    const before = treeHash(dir);
    const result = await run(args, dir);
    expect(result.exitCode, result.stderr).toBe(exit);
    expectOneLineError(result.stderr, details);
    if (says) expect(result.stderr).toMatch(says);
    expect(result.stdout).toBe('');
    expect(treeHash(dir), 'the project changed').toBe(before);
  } finally {
    if (dir !== base) rmSync(path.dirname(dir), { recursive: true, force: true });
  }
}

describe(`${cases.length} malformed inputs, in-process`, () => {
  beforeAll(() => {
    process.env.NO_COLOR = '1';
  });

  it('are hundreds, across every command', () => {
    expect(cases.length).toBeGreaterThan(300);
  });

  it.each(named)('%s', (_name, badInput) => check(badInput, runInProcess, true));
});

describe.concurrent('a sample through the real binary', () => {
  it.each(named.filter((_, index) => index % 20 === 0))('%s', (_name, badInput) =>
    check(badInput, async (args, cwd) => {
      const result = await scaffold(args, { cwd, timeout: 20_000 });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    }, false),
  );
});

describe('names that exist on every object are names like any other', () => {
  it.each(['constructor'])('new-service %s is a new service', async (name) => {
    const dir = projectFor();
    try {
      const result = await runInProcess(['new-service', name, '--yes'], dir);
      expect(result.exitCode, result.stderr).toBe(0);
      const routed = await runInProcess(['new-service', 'edge', '--yes', '--pattern', 'gateway', '--port', '8081', '--routes', `/x=${name}`, '--depends-on', name], dir);
      expect(routed.exitCode, routed.stderr).toBe(0);
      expect(readFileSync(path.join(dir, 'scaffold.yaml'), 'utf8')).toMatch(new RegExp(`^  ${name}:`, 'm'));
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});
