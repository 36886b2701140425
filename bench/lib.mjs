// Shared pieces of the benchmarks: the built CLI, projects, processes, and result lines.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const BIN = path.join(REPO, 'bin/scaffold.js');
export const quick = process.argv.includes('--quick');

export function scaffold(args, cwd) {
  return execFileSync(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}

/** A project of `count` independent http-api services, installed and built once. */
export function servicesProject(count) {
  const parent = mkdtempSync(path.join(tmpdir(), 'scaffold-bench-'));
  scaffold(['init', 'bench', '--yes'], parent);
  const dir = path.join(parent, 'bench');
  for (let i = 1; i <= count; i += 1) scaffold(['new-service', `svc-${i}`, '--yes'], dir);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'ignore' });
  execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

export async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function waitReady(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/** A generated service started by hand: the baseline for anything the supervisor does. */
export async function startDirect(projectDir, service, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: path.join(projectDir, 'services', service),
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: 'ignore',
  });
  await waitReady(`http://127.0.0.1:${port}/readyz`);
  return { port, stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }) };
}

/** requests/s and p99 latency (ms) of autocannon against a URL. */
export async function load(url, { connections = 32, duration = quick ? 3 : 10 } = {}) {
  const result = await autocannon({ url, connections, duration });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const results = [];

/** One result line: `name: ratio (ours X / baseline Y, unit)`. */
export function report(name, ours, baseline, unit) {
  const ratio = ours / baseline;
  results.push({ name, ratio: round(ratio, 3), ours: round(ours, 2), baseline: round(baseline, 2), unit });
  console.log(`${name}: ${ratio.toFixed(2)} (ours ${round(ours, 1)} / baseline ${round(baseline, 1)}, ${unit})`);
}

export function saveResults() {
  const file = path.join(REPO, 'bench/results/latest.json');
  mkdirSync(path.dirname(file), { recursive: true });
  let previous = {};
  try {
    previous = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // first run
  }
  const byName = Object.fromEntries((previous.results ?? []).map((r) => [r.name, r]));
  for (const result of results) byName[result.name] = result;
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), quick, node: process.version, results: Object.values(byName) }, null, 2)}\n`,
  );
}

function round(value, digits) {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}
