import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { scaffold, tempDir } from '../support/cli.js';

it('scaffold demo without redis-server on PATH: one line with the install line, exit 3, nothing written', async () => {
  const dir = tempDir();
  // a PATH with node and nothing else
  mkdirSync(path.join(dir, 'bin'));
  symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
  const result = await scaffold(['demo', 'shop'], { cwd: dir, env: { NO_COLOR: '1', PATH: path.join(dir, 'bin') } });
  expect(result.exitCode).toBe(3);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/needs redis-server on PATH: install it \(apt-get install redis-server, or brew install redis\)/);
  expect(existsSync(path.join(dir, 'shop'))).toBe(false);
  expect(readdirSync(dir)).toEqual(['bin']);
});
