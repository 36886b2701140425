// The process runtime's costs, each against a baseline measured in the same run:
// start-up to all-healthy, recovery after SIGKILL, requests/s and latency through the
// balancer, and through the fault proxy (the same balancer) with a fault in force.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import {
  benchProject,
  interleaved,
  latencyP50,
  load,
  median,
  medianOf,
  quick,
  report,
  saveResults,
  scaffold,
  startDirect,
  startNode,
  waitReady,
} from './lib.mjs';
import { nginxMissing, startNginx } from './nginx.mjs';

// --quick leaves out the 10-service start: it is the slowest step of the quick run
const SIZES = quick ? [1, 3] : [1, 3, 10];
const ROUNDS = quick ? 1 : 5;
const project = await benchProject();
const specFile = path.join(project, 'scaffold.yaml');
const fullSpec = readFileSync(specFile, 'utf8');

/** The first `count` services of the bench project, with svc-1's front port in `frontPort` mode. */
function useServices(count, frontPort = 'proxy') {
  const document = parseDocument(fullSpec);
  const names = Object.keys(document.toJS().services);
  for (const name of names.slice(count)) document.deleteIn(['services', name]);
  document.setIn(['services', 'svc-1', 'frontPort'], frontPort);
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

// 2. Recovery: SIGKILL to healthy again vs a cold start of the same service. Each kill hits a
// system of its own: kills a second apart are a crash loop, whose growing backoff (100, 200,
// 400 ms, …) the median would measure instead.
useServices(1);
{
  const recoveries = [];
  const colds = [];
  for (let run = 0; run < (quick ? 2 : 5); run += 1) {
    scaffold(['up'], project);
    const instance = status().services[0].instances[0];
    const killedAt = performance.now();
    process.kill(instance.pid, 'SIGKILL');
    // the private port comes back when the new process listens and is ready
    await waitReady(`http://127.0.0.1:${instance.port}/readyz`);
    recoveries.push(performance.now() - killedAt);
    scaffold(['down'], project);
    const started = performance.now();
    const cold = await startDirect(project, 'svc-1');
    colds.push(performance.now() - started);
    await cold.stop();
  }
  report('recovery after SIGKILL', median(recoveries), median(colds), 'ms vs a cold start, lower is better');
}

// 3. Requests/s through the front port (1 and 2 replicas) vs straight to one instance, and
// the fault proxy: faults act in the same balancer, so with no fault in force it is the
// 1-replica path; a 0 ms latency fault puts every request through the fault checks.
const fault = (run) => {
  scaffold(['chaos', 'latency', 'svc-1', '--ms', '0', '--for', '5m'], project);
  return run().finally(() => scaffold(['chaos', 'clear'], project));
};
/** `scaffold up` for a round: the front port's and the instance's /healthz. */
function upForRound() {
  scaffold(['up'], project);
  const [service] = status().services;
  return { front: `${service.url}/healthz`, direct: `http://127.0.0.1:${service.instances[0].port}/healthz`, instancePort: service.instances[0].port };
}
{
  const withoutNginx = nginxMissing({ stream: true });
  const one = await interleaved(ROUNDS, async () => {
    const { front, direct, instancePort } = upForRound();
    // in a process and a session of its own each, like the supervisor: the floor for a
    // proxy in Node (a bare pipe) and the rival in C (nginx passing TCP through)
    const [pipe, nginx] = await Promise.all([
      startNode([fileURLToPath(new URL('tcp-pipe.mjs', import.meta.url)), String(instancePort)], project, {}, { ownSession: true }),
      withoutNginx ? undefined : startNginx(instancePort, { stream: true, ownSession: true }),
    ]);
    const variants = {
      direct: (options) => load(direct, options),
      front: (options) => load(front, options),
      pipe: (options) => load(`${pipe.url}/healthz`, options),
      fault: (options) => fault(() => load(front, options)),
    };
    if (nginx) variants.nginx = (options) => load(`${nginx.url}/healthz`, options);
    return {
      variants,
      stop: async () => {
        await Promise.all([pipe.stop(), nginx?.stop()]);
        scaffold(['down'], project);
      },
    };
  });
  report('balancer 1 replica rps', medianOf(one.front, 'rps'), medianOf(one.direct, 'rps'), 'req/s, higher is better');
  report('balancer 1 replica p99', medianOf(one.front, 'p99'), medianOf(one.direct, 'p99'), 'ms, lower is better');
  report('balancer vs bare Node pipe rps', medianOf(one.front, 'rps'), medianOf(one.pipe, 'rps'), 'req/s, higher is better');
  report('bare Node pipe vs direct rps', medianOf(one.pipe, 'rps'), medianOf(one.direct, 'rps'), 'req/s, higher is better');
  if (withoutNginx) {
    console.log(`balancer vs nginx: skipped: ${withoutNginx}`);
  } else {
    report('balancer vs nginx TCP proxy rps', medianOf(one.front, 'rps'), medianOf(one.nginx, 'rps'), 'req/s, higher is better');
    report('nginx TCP proxy vs direct rps', medianOf(one.nginx, 'rps'), medianOf(one.direct, 'rps'), 'req/s, higher is better');
  }
  report('fault proxy no fault rps', medianOf(one.front, 'rps'), medianOf(one.direct, 'rps'), 'req/s, higher is better');
  report('fault proxy latency 0 ms rps', medianOf(one.fault, 'rps'), medianOf(one.direct, 'rps'), 'req/s, higher is better');

  // latency: one request at a time, alternating with a direct one
  const { front, direct } = upForRound();
  const [frontP50, directP50] = await latencyP50([front, direct]);
  report('fault proxy no fault p50', frontP50, directP50, 'µs, one request at a time, lower is better');
  const [faultP50, directP50WithFault] = await fault(() => latencyP50([front, direct]));
  report('fault proxy latency 0 ms p50', faultP50, directP50WithFault, 'µs, one request at a time, lower is better');
  scaffold(['down'], project);

  const two = await interleaved(ROUNDS, async () => {
    const { front, direct } = upForRound();
    scaffold(['scale', 'svc-1', '2'], project);
    return {
      variants: { direct: (options) => load(direct, options), front: (options) => load(front, options) },
      stop: async () => scaffold(['down'], project),
    };
  });
  report('balancer 2 replicas rps', medianOf(two.front, 'rps'), medianOf(two.direct, 'rps'), 'req/s, higher is better');

  // `frontPort: handoff`: the front port passes each connection to the instance
  useServices(1, 'handoff');
  const handoff = await interleaved(ROUNDS, async () => {
    const { front, direct } = upForRound();
    return {
      variants: { direct: (options) => load(direct, options), front: (options) => load(front, options) },
      stop: async () => scaffold(['down'], project),
    };
  });
  report('handoff front port rps', medianOf(handoff.front, 'rps'), medianOf(handoff.direct, 'rps'), 'req/s, higher is better');
  report('handoff front port p99', medianOf(handoff.front, 'p99'), medianOf(handoff.direct, 'p99'), 'ms, lower is better');
}

writeFileSync(specFile, fullSpec);
saveResults();
