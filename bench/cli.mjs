// The CLI's own speed: `scaffold --help` against Node starting with nothing to do, and
// `scaffold generate` for 50 services against 1 and 10 (each service should cost the same).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, median, quick, report, saveResults } from './lib.mjs';

const RUNS = quick ? 7 : 21;

function wallMs(args, cwd) {
  const started = performance.now();
  execFileSync(process.execPath, args, { cwd, stdio: 'ignore' });
  return performance.now() - started;
}

// 1. `scaffold --help`: every module the CLI loads before it can print its help.
{
  const ours = [];
  const baseline = [];
  for (let run = 0; run < RUNS; run += 1) {
    ours.push(wallMs([BIN, '--help']));
    baseline.push(wallMs(['-e', '']));
  }
  report('scaffold --help vs node -e ""', median(ours), median(baseline), 'ms, lower is better');
}

// 2. `scaffold generate` in a folder holding only scaffold.yaml (everything is created),
// for 1, 10 and 50 http-api services. The first service costs more than the next ones (it
// loads and compiles the service templates), so linearity is the cost of each service
// added from 10 to 50 against each added from 1 to 10.
{
  const parent = mkdtempSync(path.join(tmpdir(), 'scaffold-bench-generate-'));
  const generate = (count) => {
    const dir = path.join(parent, `run-${count}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    const services = Array.from({ length: count }, (_, i) => `  svc-${i + 1}:\n    pattern: http-api\n    port: ${3001 + i}\n`);
    writeFileSync(path.join(dir, 'scaffold.yaml'), `name: bench\nservices:\n${services.join('')}`);
    const ms = wallMs([BIN, 'generate'], dir);
    rmSync(dir, { recursive: true, force: true });
    return ms;
  };
  const times = { 1: [], 10: [], 50: [] };
  for (let run = 0; run < (quick ? 2 : 7); run += 1) {
    for (const count of [1, 10, 50]) times[count].push(generate(count));
  }
  const [one, ten, fifty] = [median(times[1]), median(times[10]), median(times[50])];
  report('generate 50 vs 1 services', fifty, one, 'ms, for 50 times the services, lower is better');
  report('generate per service 10-50 vs 1-10', (fifty - ten) / 40, (ten - one) / 9, 'ms per added service, 1.0 is linear');
  rmSync(parent, { recursive: true, force: true });
}

saveResults();
