import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaffold, tempDir } from '../support/cli.js';

describe('the compose runtime without Docker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    expect((await scaffold(['init', 'shop', '--yes'], { cwd: dir })).exitCode).toBe(0);
    // a PATH with node and nothing of Docker's
    mkdirSync(path.join(dir, 'bin'));
    symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says so in one line, exits 3 and suggests the process runtime', async () => {
    const result = await scaffold(['up', '--runtime', 'compose'], { cwd: path.join(dir, 'shop'), env: { NO_COLOR: '1', PATH: path.join(dir, 'bin') } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Docker is not installed.*--runtime process/);
  });

  it('a --ca-cert that is not there: exit 2 before anything runs', async () => {
    const result = await scaffold(['up', '--runtime', 'compose', '--ca-cert', path.join(dir, 'missing.pem')], { cwd: path.join(dir, 'shop') });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--ca-cert: no such file/);
  });

  it('--base-image and --ca-cert belong to image builds', async () => {
    const result = await scaffold(['up', '--base-image', 'node:22'], { cwd: path.join(dir, 'shop') });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--runtime compose/);
  });
});
