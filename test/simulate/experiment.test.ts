import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActiveFault } from '../../src/runtime/faults.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { Journal } from '../../src/simulate/chaos/experiment.js';
import { injectFault } from '../../src/simulate/chaos/inject.js';
import { experimentJsonSchema, loadExperiment } from '../../src/simulate/chaos/experiment-schema.js';
import { faultWindows } from '../../src/simulate/report/experiment-view.js';
import { tempDir } from '../support/cli.js';

const HYPOTHESIS = ['steady-state-hypothesis:', '  title: t', '  probes:', '    - { name: p, type: http, service: users }'];

describe('experiment files', () => {
  const dir = tempDir();
  const write = (lines: string[]) => {
    const file = path.join(dir, 'experiment.yaml');
    writeFileSync(file, lines.join('\n'));
    return file;
  };

  it('take a background load and link faults, with defaults filled in', async () => {
    const experiment = await loadExperiment(
      write(['title: x', ...HYPOTHESIS, 'method:', '  - { type: fault, service: users, from: api-gateway, fault: { kind: latency, ms: 100 }, for: 2s }', 'load: { path: /users/items, rate: 50 }']),
    );
    expect(experiment.method[0]).toMatchObject({ from: 'api-gateway' });
    expect(experiment.load).toEqual({ path: '/users/items', rate: 50, method: 'GET', connections: 10, timeout: '10s', before: '2s', after: '2s', slos: [] });
  });

  it.each([
    ['rate: -5', /experiment\.yaml:\d+:\d+: load\.rate/],
    ['rate: 2000000', /experiment\.yaml:\d+:\d+: load\.rate: Too big: expected number to be <=1000000/],
    ['connections: 20000', /experiment\.yaml:\d+:\d+: load\.connections: Too big: expected number to be <=10000/],
    ['slos: ["p99 fast"]', /experiment\.yaml:\d+:\d+: load\.slos\.0: "p99 fast" is not an SLO/],
    ['duration: 5s', /load.*duration/],
    ['service: users, url: "http://127.0.0.1:1/"', /load: give a service or a url, not both/],
  ])('name the field of a malformed background load (%s)', async (field, message) => {
    const error = await loadExperiment(write(['title: x', ...HYPOTHESIS, 'method:', '  - { type: wait, for: 1s }', `load: { ${field} }`])).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 2 });
    expect([(error as Error).message, ...(error as { details: string[] }).details].join('\n')).toMatch(message);
  });

  it('are documented by the JSON Schema, the new fields included', () => {
    const schema = JSON.stringify(experimentJsonSchema());
    expect(schema).toContain('background load');
    expect(schema).toContain('one caller→service link');
  });
});

describe('fault windows on the report', () => {
  it('are placed by wall-clock time from the start of the load; a kill is a moment', () => {
    const journal = {
      startedAt: '2026-01-01T00:00:00.000Z',
      load: { load: { startedAt: '2026-01-01T00:00:01.000Z' } },
      method: [
        { activity: { type: 'fault', service: 'users', from: 'api-gateway', fault: { kind: 'latency', ms: 100 }, for: '2s' }, atMs: 3000, at: '2026-01-01T00:00:03.000Z', outcome: '' },
        { activity: { type: 'wait', for: '1s' }, atMs: 3000, at: '2026-01-01T00:00:03.000Z', outcome: '' },
        { activity: { type: 'kill', service: 'orders' }, atMs: 4500, at: '2026-01-01T00:00:04.500Z', outcome: '' },
      ],
    } as unknown as Journal;
    expect(faultWindows(journal)).toEqual([
      { label: 'latency api-gateway→users', fromS: 2, toS: 4 },
      { label: 'kill orders', fromS: 3.5, toS: 3.5 },
    ]);
  });
});

describe('injectFault', () => {
  it('clears the fault of a runtime that ignored --from, and says the runtime cannot', async () => {
    const cleared: (string | undefined)[] = [];
    // a driver written before links existed: it takes no options and faults every caller
    const runtime = {
      name: 'compose',
      inject: async (service: string): Promise<ActiveFault> => ({ id: 'f1', service, fault: { kind: 'latency', ms: 1 }, expiresAt: '' }),
      clearFaults: async (id?: string) => void cleared.push(id),
    } as unknown as Runtime;
    await expect(injectFault(runtime, 'users', { kind: 'latency', ms: 1 }, 1000, 'api-gateway')).rejects.toMatchObject({
      name: 'UnsupportedError',
      exitCode: 2,
      message: expect.stringMatching(/the compose runtime cannot put a fault on one caller→service link/),
    });
    expect(cleared).toEqual(['f1']);
    await expect(injectFault(runtime, 'users', { kind: 'latency', ms: 1 }, 1000)).resolves.toMatchObject({ id: 'f1' });
  });
});
