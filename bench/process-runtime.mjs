// The process runtime's costs, each against a baseline measured in the same run:
// start-up to all-healthy, recovery after SIGKILL, and requests/s through the balancer.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { load, median, quick, report, saveResults, scaffold, servicesProject, startDirect, waitReady } from './lib.mjs';

const SIZES = [1, 3, 10];
const project = servicesProject(Math.max(...SIZES));
const specFile = path.join(project, 'scaffold.yaml');
const fullSpec = readFileSync(specFile, 'utf8');

function useServices(count) {
  const document = parseDocument(fullSpec);
  const names = Object.keys(document.toJS().services);
  for (const name of names.slice(count)) document.deleteIn(['services', name]);
  writeFileSync(specFile, document.toString());
}

const status = () => JSON.parse(scaffold(['status', '--json'], project));

// 1. `scaffold up` until all healthy vs starting the same services by hand, in parallel.
for (const count of SIZES) {
  useServices(count);
  const ours = [];
  const baseline = [];
  for (let run = 0; run < (quick ? 1 : 3); run += 1) {
    let started = performance.now();
    scaffold(['up'], project);
    ours.push(performance.now() - started);
    scaffold(['down'], project);
    started = performance.now();
    const direct = await Promise.all(Array.from({ length: count }, (_, i) => startDirect(project, `svc-${i + 1}`)));
    baseline.push(performance.now() - started);
    await Promise.all(direct.map((service) => service.stop()));
  }
  report(`up-to-healthy ${count} service${count > 1 ? 's' : ''}`, median(ours), median(baseline), 'ms, lower is better');
}

// 2. Recovery: SIGKILL to healthy again vs a cold start of the same service.
useServices(1);
scaffold(['up'], project);
{
  const recoveries = [];
  const colds = [];
  for (let run = 0; run < (quick ? 2 : 5); run += 1) {
    const instance = status().services[0].instances[0];
    const killedAt = performance.now();
    process.kill(instance.pid, 'SIGKILL');
    // the private port comes back when the new process listens and is ready
    await waitReady(`http://127.0.0.1:${instance.port}/readyz`);
    recoveries.push(performance.now() - killedAt);
    const started = performance.now();
    const cold = await startDirect(project, 'svc-1');
    colds.push(performance.now() - started);
    await cold.stop();
  }
  report('recovery after SIGKILL', median(recoveries), median(colds), 'ms vs a cold start, lower is better');
}

// 3. Requests/s through the front port (1 and 2 replicas) vs straight to one instance.
{
  const { services } = status();
  const front = services[0].url;
  const instancePort = services[0].instances[0].port;
  const direct = await load(`http://127.0.0.1:${instancePort}/healthz`);
  const one = await load(`${front}/healthz`);
  report('balancer 1 replica rps', one.rps, direct.rps, 'req/s, higher is better');
  report('balancer 1 replica p99', one.p99, direct.p99, 'ms, lower is better');
  scaffold(['scale', 'svc-1', '2'], project);
  const two = await load(`${front}/healthz`);
  report('balancer 2 replicas rps', two.rps, direct.rps, 'req/s, higher is better');
}

scaffold(['down'], project);
writeFileSync(specFile, fullSpec);
saveResults();
