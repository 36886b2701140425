import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulateLoad } from '../../src/simulate/load/simulate.js';
import { parseSlo } from '../../src/simulate/load/slo.js';
import { scaffold, tempDir } from '../support/cli.js';
import { freePort } from '../support/services.js';

/** A real server that counts what it receives. */
async function countingServer() {
  let count = 0;
  const server = http.createServer((_request, response) => {
    count += 1;
    response.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get count() {
      return count;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('simulateLoad against a real server', () => {
  let server: Awaited<ReturnType<typeof countingServer>>;
  const project = tempDir();
  // a server of its own per test: requests still in flight when a run ends must not be
  // counted by the next one
  beforeEach(async () => {
    server = await countingServer();
    return () => server.close();
  });

  it('reports as many requests as the server received (±1%)', async () => {
    const before = server.count;
    const result = await simulateLoad({ projectDir: project, url: server.url, connections: 8, durationMs: 2_000 });
    const received = server.count - before;
    expect(Math.abs(result.summary.requests - received)).toBeLessThanOrEqual(received * 0.01);
    expect(result.summary.errors).toBe(0);
    expect(result.series.length).toBeGreaterThanOrEqual(2);
  });

  it('times each answer from its own request when the server closes connections after answering', async () => {
    // every other answer says `connection: close`, as injected errors and draining instances do
    let answered = 0;
    const closing = http.createServer((_request, response) => {
      answered += 1;
      if (answered % 2 === 0) response.setHeader('connection', 'close');
      response.end('ok');
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    try {
      const connections = 10;
      const url = `http://127.0.0.1:${(closing.address() as AddressInfo).port}/`;
      const { summary } = await simulateLoad({ projectDir: project, url, connections, durationMs: 2_000 });
      expect(summary.errors).toBe(0);
      // Little's law: with every connection busy, the mean latency is connections / rate; a
      // queue that kept the closed connections' requests read a p50 two hundred times that
      const mean = (connections / summary.rps) * 1000;
      expect(summary.latency.p50).toBeLessThan(5 * mean);
    } finally {
      closing.closeAllConnections();
      await new Promise((resolve) => closing.close(resolve));
    }
  });

  it('--rate counts one failure per request due when the target refuses connections, not one per retry', async () => {
    const refusing = `http://127.0.0.1:${await freePort()}/`;
    const { summary } = await simulateLoad({ projectDir: project, url: refusing, connections: 10, durationMs: 2_000, rate: 100 });
    expect(summary.errorsByKind).toEqual({ ECONNREFUSED: summary.errors });
    // 200 due, and at most one per connection at the start
    expect(summary.errors).toBeGreaterThanOrEqual(180);
    expect(summary.errors).toBeLessThanOrEqual(220);
  });

  it('--amount below the connections sends that many, on as many connections (autocannon refused it)', async () => {
    const before = server.count;
    const result = await simulateLoad({ projectDir: project, url: server.url, connections: 10, amount: 3 });
    expect(result.summary.requests).toBe(3);
    expect(server.count - before).toBe(3);
  });

  it('--amount stops after that many requests (autocannon lets each connection finish its last)', async () => {
    const before = server.count;
    const result = await simulateLoad({ projectDir: project, url: server.url, connections: 4, amount: 300 });
    expect(result.summary.requests).toBeGreaterThanOrEqual(300);
    expect(result.summary.requests).toBeLessThanOrEqual(304);
    expect(Math.abs(server.count - before - result.summary.requests)).toBeLessThanOrEqual(4);
  });
});

describe('scenarios', () => {
  it('sends weighted requests with their own methods, headers and bodies, and fills {{id}}', async () => {
    const seen: { method: string; url: string; header?: string; body: string }[] = [];
    const recorder = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, header: request.headers['x-kind'] as string | undefined, body });
        response.end('ok');
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    const dir = tempDir();
    const file = path.join(dir, 'scenario.yaml');
    writeFileSync(
      file,
      [
        'requests:',
        '  - { weight: 3, path: /items }',
        '  - weight: 1',
        '    method: POST',
        '    path: /items',
        '    headers: { x-kind: create }',
        '    body: { name: "item-{{id}}" }',
      ].join('\n'),
    );
    try {
      const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/ignored`;
      const result = await simulateLoad({ projectDir: dir, url, connections: 4, amount: 400, scenario: 'scenario.yaml' });
      expect(result.summary.errors).toBe(0);
      const posts = seen.filter((request) => request.method === 'POST');
      expect(seen.every((request) => request.url === '/items')).toBe(true);
      expect(posts.length / seen.length).toBeGreaterThan(0.15);
      expect(posts.length / seen.length).toBeLessThan(0.35);
      expect(posts.every((post) => post.header === 'create' && /^\{"name":"item-\d+"\}$/.test(post.body))).toBe(true);
      expect(new Set(posts.map((post) => post.body)).size).toBe(posts.length);
    } finally {
      await new Promise((resolve) => recorder.close(resolve));
    }
  });

  it('refuses a malformed scenario with exit 2, naming the line and the field', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'bad.yaml'), 'requests:\n  - path: items\n    weight: 0\n');
    const result = await scaffold(['simulate', 'load', 'http://127.0.0.1:9/', '-d', '1s', '--scenario', 'bad.yaml'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/bad\.yaml:2:\d+: requests\.0\.path: a path starts with "\/"/);
  });
});

describe('SLOs', () => {
  it.each([
    ['p99<250ms', { metric: 'p99', operator: '<', threshold: 250 }],
    ['p95 <= 1.5s', { metric: 'p95', operator: '<=', threshold: 1500 }],
    ['error_rate<1%', { metric: 'error_rate', operator: '<', threshold: 0.01 }],
    ['rps>1000', { metric: 'rps', operator: '>', threshold: 1000 }],
  ])('parses %s', (expression, expected) => {
    expect(parseSlo(expression)).toMatchObject(expected);
  });

  it.each(['p99<250', 'p42<1ms', 'error_rate<1', 'rps>10ms', 'latency is fine'])('refuses %s', (expression) => {
    expect(() => parseSlo(expression)).toThrow(/SLO|unit|percentage|plain number/);
  });
});

describe('scaffold simulate load', () => {
  let server: Awaited<ReturnType<typeof countingServer>>;
  beforeAll(async () => {
    server = await countingServer();
  });
  afterAll(() => server.close());

  it('exits 0 when every SLO holds, and saves the result in the project', async () => {
    const parent = tempDir();
    await scaffold(['init', 'shop', '--yes'], { cwd: parent });
    const project = path.join(parent, 'shop');
    const result = await scaffold(['simulate', 'load', server.url, '-d', '1s', '--slo', 'error_rate<1%', '--json'], { cwd: project });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ kind: 'load', passed: true, slos: [{ expression: 'error_rate<1%', passed: true }] });
    const saved = readdirSync(path.join(project, '.scaffold/results'));
    expect(saved).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(project, '.scaffold/results', saved[0]!), 'utf8')).summary.requests).toBe(report.summary.requests);
  });

  it('an open-model run exits when its schedule ends: connections opened ahead and never used are closed', async () => {
    // 20 opened ahead, one or two needed at 50/s: a socket that carried no request is not
    // idle to a Node server, which closes it only at its headers timeout (60 s)
    const started = performance.now();
    const result = await scaffold(['simulate', 'load', server.url, '--rate', '50', '-d', '1s', '-c', '20', '--json'], { cwd: tempDir() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).summary.requests).toBe(50);
    expect(performance.now() - started).toBeLessThan(8_000);
  });

  it('exits 1 when an SLO fails, with the verdict table', async () => {
    const result = await scaffold(['simulate', 'load', server.url, '-d', '1s', '--slo', 'rps>100000000'], { cwd: tempDir() });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+rps>100000000\s+actual \d+ req\/s/);
  });

  it.each([
    [404, /hint +most answers were 404 Not Found: check the path/],
    [429, /hint +most answers were 429 Too Many Requests: a rate limit refused them/],
  ])('names the likely cause when most answers are %i', async (status, hint) => {
    const answering = http.createServer((_request, response) => response.writeHead(status).end());
    await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(answering.address() as AddressInfo).port}/`;
      const result = await scaffold(['simulate', 'load', url, '-a', '200'], { cwd: tempDir() });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`status +${status}: 20\\d`));
      expect(result.stdout).toMatch(hint);
    } finally {
      await new Promise((resolve) => answering.close(resolve));
    }
  });

  it('says so when most requests were refused: nothing listens there', async () => {
    const refusing = `http://127.0.0.1:${await freePort()}/`;
    const result = await scaffold(['simulate', 'load', refusing, '-d', '500ms'], { cwd: tempDir() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/errors +ECONNREFUSED: \d+/);
    expect(result.stdout).toMatch(new RegExp(`hint +most requests were refused: nothing listens on ${new URL(refusing).host} `));
  });

  it('says so when no request fell due in the run', async () => {
    const result = await scaffold(['simulate', 'load', server.url, '--rate', '10', '-d', '1ms'], { cwd: tempDir() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/0 requests in/);
    expect(result.stdout).toMatch(/hint +no request fell due in the run: give it a longer --duration or a higher --rate/);
  });

  it('gives no hint when the answers are fine', async () => {
    const result = await scaffold(['simulate', 'load', server.url, '-a', '200'], { cwd: tempDir() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/hint/);
  });

  it.each([
    [['--slo', 'p99<fast'], /is not an SLO: use p50\|p90/],
    [['--duration', 'forever'], /expected a duration/],
    [['--rate', '-5'], /expected a number above 0/],
    // past it the schedule fell behind the clock: `-d 1s` ran on for minutes
    [['--rate', '1e9'], /expected a number above 0 and at most 1000000/],
    [['--stages', '1s:2000000'], /--stages: a target of 2000000: at most 1,000,000 requests a second/],
    [['-c', '2', '--stages', '1s:20000'], /--stages: a target of 20000: at most 10,000 connections/],
    [['--connections', '0'], /whole number from 1/],
    [['--header', 'nocolon'], /is not a header/],
    [['--stages', '10:100'], /is not a stage: use duration:target/],
  ])('refuses %j with exit 2 and one line', async (flags, message) => {
    const bounds = flags.includes('--stages') ? [] : ['-d', '1s'];
    const result = await scaffold(['simulate', 'load', server.url, ...bounds, ...flags], { cwd: tempDir() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('Ctrl+C stops the load and still prints, saves and reports what was measured', async () => {
    const parent = tempDir();
    await scaffold(['init', 'shop', '--yes'], { cwd: parent });
    const project = path.join(parent, 'shop');
    const run = scaffold(['simulate', 'load', server.url, '-d', '60s', '--json', '--report', 'partial.html'], { cwd: project });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.summary.requests).toBeGreaterThan(0);
    expect(report.durationMs).toBeLessThan(10_000);
    expect(readdirSync(path.join(project, '.scaffold/results'))).toHaveLength(1);
    expect(existsSync(path.join(project, 'partial.html'))).toBe(true);
  });

  it('refuses a target off this machine before opening any socket', async () => {
    const cwd = tempDir();
    const result = await scaffold(['simulate', 'load', 'http://example.invalid/', '-d', '1s'], { cwd });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/not on this machine.*--allow-remote/);
    expect(existsSync(path.join(cwd, '.scaffold'))).toBe(false);
  });
});
