// What taking the balancer off the data path would give: Node's cluster module, whose
// primary accepts each connection and hands the socket itself to a worker over IPC (round
// robin), so that bytes flow client ↔ instance with no process between. The price is the
// balancer's replay: a request in flight on a worker that dies is lost.
// Usage: PORT=… node handoff.mjs <service dir> (one worker running its dist/main.js)
import cluster from 'node:cluster';
import path from 'node:path';

cluster.schedulingPolicy = cluster.SCHED_RR;
cluster.setupPrimary({ exec: path.join(process.argv[2], 'dist/main.js'), cwd: process.argv[2] });
cluster.fork();
