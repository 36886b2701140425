// The upstream call path with the resilience policies (cockatiel: timeout, bulkhead, retry
// within a budget, circuit breaker, and their metrics) vs the plain client (fetch with the
// request id and a timeout), in the same run: wrk on a caller that makes one upstream call
// per request, to a generated http-api service's /healthz. Goal: ≥ 0.95×.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchProject, interleaved, load, medianOf, quick, report, saveResults, startDirect, startNode } from './lib.mjs';

const ROUNDS = quick ? 1 : 5;
const project = await benchProject();
const serviceDir = path.join(project, 'services/svc-1');
const caller = fileURLToPath(new URL('upstream-caller.mjs', import.meta.url));

const runs = await interleaved(ROUNDS, async () => {
  const upstream = await startDirect(project, 'svc-2');
  const env = { UPSTREAM_URL: upstream.url };
  const [plain, policies] = await Promise.all([
    startNode([caller, serviceDir], serviceDir, { ...env, CALLER: 'plain' }),
    startNode([caller, serviceDir], serviceDir, { ...env, CALLER: 'policies' }),
  ]);
  return {
    variants: {
      plain: (options) => load(`${plain.url}/`, { ...options, wrk: true }),
      policies: (options) => load(`${policies.url}/`, { ...options, wrk: true }),
    },
    stop: () => Promise.all([plain.stop(), policies.stop(), upstream.stop()]),
  };
});
report('upstream call with resilience policies vs plain client, rps', medianOf(runs.policies, 'rps'), medianOf(runs.plain, 'rps'), 'req/s, higher is better');
report('upstream call with resilience policies vs plain client, p99', medianOf(runs.policies, 'p99'), medianOf(runs.plain, 'p99'), 'ms, lower is better');
saveResults();
