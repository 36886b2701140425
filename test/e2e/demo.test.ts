import { expect, inject, it } from 'vitest';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { processesUnder } from '../support/services.js';

const shared = inject('sampleProject');

// The README's main job, on a copy of the installed sample (on free ports): a fresh demo
// differs only by generating and installing first, which the global setup already covers.
it('scaffold demo runs the system, kills a replica under traffic, and cleans up', async () => {
  const project = await copyProject(shared);
  const result = await scaffold(['demo', project, '--json'], { cwd: project });
  expect(result.exitCode, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout);
  expect(report.traffic.requests).toBeGreaterThan(100);
  expect(report.traffic.ok / report.traffic.requests).toBeGreaterThanOrEqual(0.99);
  expect(report.killed.instance).toMatch(/^orders-\d$/);
  expect(report.killed.restartedInMs).toEqual(expect.any(Number));
  const orders = report.status.services.find((s: { name: string }) => s.name === 'orders');
  expect(orders.instances.every((i: { healthy: boolean }) => i.healthy)).toBe(true);
  expect(processesUnder(project)).toEqual([]);
});
