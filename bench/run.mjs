// npm run bench [-- --quick]: every benchmark, one after another (never side by side:
// they would measure each other).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const bench of ['process-runtime.mjs', 'load-engine.mjs']) {
  execFileSync(process.execPath, [fileURLToPath(new URL(bench, import.meta.url)), ...process.argv.slice(2)], { stdio: 'inherit' });
}
