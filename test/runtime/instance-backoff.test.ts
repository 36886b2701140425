import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
// built: an instance starts its process with the lifeline next to it (dist/…/lifeline.js)
import { Instance } from '../../dist/runtime/process/instance.js';
import { tempDir } from '../support/cli.js';
import { freePort, waitUntil } from '../support/services.js';

let instance: Instance | undefined;
afterEach(async () => instance?.stop(1_000));

it('backs a crash loop off even after a long healthy run: only the run that ended may have its crashes forgiven', async () => {
  const dir = tempDir();
  const mode = path.join(dir, 'mode');
  writeFileSync(mode, 'serve');
  // serves its readiness while the file says so, and otherwise dies at once, as a service
  // whose dependency went missing does
  writeFileSync(
    path.join(dir, 'server.mjs'),
    `import { readFileSync } from 'node:fs';
import http from 'node:http';
if (readFileSync(${JSON.stringify(mode)}, 'utf8') !== 'serve') process.exit(1);
http.createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');`,
  );
  const port = await freePort();
  instance = new Instance({
    id: 'svc-1',
    port,
    cwd: dir,
    entry: 'server.mjs',
    env: { PORT: String(port) },
    logFile: path.join(dir, 'svc-1.log'),
    probe: (at) => fetch(`http://127.0.0.1:${at}/`).then((response) => response.ok, () => false),
    restart: 'always',
    onReadiness: () => undefined,
    stableMs: 300,
  });
  instance.start();
  await instance.waitHealthy(10_000);
  await new Promise((resolve) => setTimeout(resolve, 500)); // healthy past stableMs

  writeFileSync(mode, 'crash');
  process.kill(instance.pid!, 'SIGKILL');
  await waitUntil(async () => instance!.restarts >= 1, 5_000);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  // the first restart at once, then 100, 200, 400, 800 ms… : about 5 in 2 s; forgiving each
  // crash for the healthy spell before the first one restarted it 50 times and more
  expect(instance.restarts).toBeGreaterThanOrEqual(3);
  expect(instance.restarts).toBeLessThanOrEqual(7);
});
