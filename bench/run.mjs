// npm run bench [-- --quick]: every benchmark, one after another (never side by side:
// they would measure each other), on one sample project made once.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchProject, scaffold } from './lib.mjs';

const started = performance.now();
const project = await makeBenchProject();
console.log(`sample project: generated, installed and built in ${Math.round((performance.now() - started) / 1000)} s`);
try {
  for (const bench of ['cli.mjs', 'services.mjs', 'upstream-client.mjs', 'process-runtime.mjs', 'load-engine.mjs', 'events.mjs', 'jobs.mjs']) {
    execFileSync(process.execPath, [fileURLToPath(new URL(bench, import.meta.url)), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, SCAFFOLD_BENCH_PROJECT: project },
    });
  }
} finally {
  // a benchmark that failed half-way may have left the system up
  try {
    scaffold(['down'], project);
  } catch {
    // nothing was running
  }
  rmSync(path.dirname(project), { recursive: true, force: true });
}
console.log(`all benchmarks: ${Math.round((performance.now() - started) / 1000)} s`);
