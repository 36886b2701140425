import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { scaffold, tempDir } from '../support/cli.js';
import { treeHash } from '../support/tree-hash.js';

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

it('scaffold demo on a project without the classic services: one line naming them, exit 2, not a file changed', async () => {
  const dir = tempDir();
  expect((await scaffold(['init', 'shop', '--yes'], { cwd: dir })).exitCode).toBe(0);
  const project = path.join(dir, 'shop');
  expect((await scaffold(['new-service', 'users', '--yes'], { cwd: project })).exitCode).toBe(0);
  const before = treeHash(project);
  // (redis-server on PATH, as CI installs it: that check comes first)
  const result = await scaffold(['demo', 'shop'], { cwd: dir });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toMatch(/^error: \S*shop holds a project without "orders", "api-gateway": the demo runs on the classic system \(users, orders, api-gateway\); give it a new folder$/);
  expect(treeHash(project)).toBe(before);
});
