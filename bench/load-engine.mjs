// `scaffold simulate load` against autocannon alone and wrk, on the same target in the
// same run: what our per-second series, histograms and SLO bookkeeping cost; then the open
// model's highest rate held against the closed model's.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { freePort, median, quick, report, saveResults, waitReady } from './lib.mjs';
import { simulateLoad } from '../dist/simulate/load/simulate.js';

const CONNECTIONS = 32;
const SECONDS = quick ? 2 : 8;
const ROUNDS = quick ? 1 : 3;

// the target runs in its own process, as a service would
const port = await freePort();
const target = spawn(process.execPath, ['-e', `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`], { stdio: 'ignore' });
const url = `http://127.0.0.1:${port}/`;
await waitReady(url);

const ours = [];
const alone = [];
const wrk = [];
const haveWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return error.status === 1; // wrk --version exits 1 after printing its version
  }
})();

for (let round = 0; round < ROUNDS; round += 1) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  alone.push(result.requests.total / SECONDS);
  const mine = await simulateLoad({ projectDir: '/nonexistent', url, connections: CONNECTIONS, durationMs: SECONDS * 1000 });
  ours.push(mine.summary.requests / (mine.durationMs / 1000));
  if (haveWrk) {
    const output = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, url], { encoding: 'utf8' });
    wrk.push(Number(/Requests\/sec:\s+([\d.]+)/.exec(output)[1]));
  }
}

report('simulate load vs autocannon alone', median(ours), median(alone), 'req/s, higher is better');
if (haveWrk) report('simulate load vs wrk', median(ours), median(wrk), 'req/s, higher is better');
else console.log('simulate load vs wrk: skipped (apt-get install wrk)');

// The open model (--rate): the highest rate it holds (its pool at the default cap), against
// the rate autocannon's closed model reaches on the same target in the same round; and what
// each costs this process in CPU per request at that rate. A step is held when, as k6 reads
// its dropped_iterations, almost nothing was dropped (at most 1 in 1,000 scheduled) and the
// target answered rate × duration within 1%, none of it an error: one scheduling stall of the
// machine in 8 s does not end the search, a client that cannot keep up does.
const held = [];
const closedRates = [];
const openCpu = [];
const closedCpu = [];
const STEPS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1, 1.1];
// a warm-up, as autocannon had in the rounds above: no step measures a cold JIT
await simulateLoad({ projectDir: '/nonexistent', url, rate: 1000, durationMs: 1000 });
for (let round = 0; round < ROUNDS; round += 1) {
  let cpu = process.cpuUsage();
  const targetCpu = targetCpuMicros();
  const closed = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  closedCpu.push(cpuMicros(cpu) / closed.requests.total);
  const closedRate = closed.requests.total / SECONDS;
  closedRates.push(closedRate);
  // what bounds the closed model's rate: on a 2-core machine both sides may each fill a core,
  // and then the baseline is the machine's, with no room left for an open model's catch-up
  const cores = (micros) => (micros / (SECONDS * 1e6)).toFixed(2);
  const closedTargetMicros = targetCpuMicros() - targetCpu;
  console.log(`  round ${round + 1}, closed model ${Math.round(closedRate)} req/s: autocannon ${cores(cpuMicros(cpu))} cores, target ${cores(closedTargetMicros)} cores (${perRequest(closedTargetMicros, closed.requests.total)} a request)`);
  let best = 0;
  let bestCpu = NaN;
  for (const step of STEPS) {
    const rate = Math.round(closedRate * step);
    cpu = process.cpuUsage();
    const targetBefore = targetCpuMicros();
    const run = await simulateLoad({ projectDir: '/nonexistent', url, rate, durationMs: SECONDS * 1000 });
    const scheduled = rate * SECONDS;
    const { dropped, errors, ok } = run.summary;
    // each side's share of the two cores: an open model wakes the target for almost every
    // request, where a saturated closed loop finds several waiting, so the target's cost per
    // request rises as the load turns open
    const targetMicros = targetCpuMicros() - targetBefore;
    console.log(
      `  round ${round + 1}, ${rate} req/s (${step}×): ${ok} answered, ${dropped} dropped, ${errors} errors, p99 ${run.summary.latency.p99} ms;` +
        ` client ${cores(cpuMicros(cpu))} cores, target ${cores(targetMicros)} cores (${perRequest(targetMicros, ok)} a request)`,
    );
    if (dropped > scheduled * 0.001 || errors > 0 || Math.abs(ok - scheduled) > scheduled * 0.01) break;
    best = rate;
    bestCpu = cpuMicros(cpu) / run.summary.requests;
  }
  held.push(best);
  openCpu.push(bestCpu);
}
report('open model: highest rate held without dropping vs autocannon closed model', median(held), median(closedRates), 'req/s, higher is better');
report('open model vs autocannon closed model: CPU per request', median(openCpu), median(closedCpu), 'µs of this process per request, lower is better');
target.kill();
saveResults();

/** The target process's CPU so far (Linux /proc; NaN elsewhere), in µs. */
function targetCpuMicros() {
  try {
    const fields = readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, fields 14 and 15 of stat, in clock ticks (100 a second on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 1e4;
  } catch {
    return NaN;
  }
}

function perRequest(micros, requests) {
  return `${(micros / requests).toFixed(1)} µs`;
}

function cpuMicros(since) {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}
