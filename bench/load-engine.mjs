// `scaffold simulate load` against autocannon alone and wrk, on the same target in the
// same run: what our per-second series, histograms and SLO bookkeeping cost.
import { execFileSync, spawn } from 'node:child_process';
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
target.kill();
saveResults();
