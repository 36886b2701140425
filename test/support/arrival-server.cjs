// A plain node:http server in a process of its own, the oracle of load tests: it records
// when each request arrived (ms on the machine's shared clock) and can stall. Started by
// arrival-server.ts; argv[2] is JSON: { holdMs?, stallMs?, periodMs?, block? }.
//   holdMs: every answer waits this long
//   stallMs every periodMs, from a random phase: answers wait out the stall (block: false)
//   or the event loop is blocked for it (block: true)
const http = require('node:http');

const { holdMs = 0, stallMs = 0, periodMs = 0, block = false } = JSON.parse(process.argv[2] ?? '{}');
const now = () => performance.timeOrigin + performance.now();
// stalls run at periodMs intervals from here, already under way when the server starts
const origin = now() - Math.random() * periodMs;
let arrivals = [];
let connections = 0;

function waitFor(at) {
  if (holdMs > 0) return holdMs;
  if (stallMs === 0 || block) return 0;
  const phase = (((at - origin) % periodMs) + periodMs) % periodMs;
  return phase < stallMs ? stallMs - phase : 0;
}

const server = http.createServer((_request, response) => {
  const at = now();
  arrivals.push(at);
  const wait = waitFor(at);
  if (wait > 0) setTimeout(() => response.end('ok'), wait);
  else response.end('ok');
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => (connections += 1));
server.listen(0, '127.0.0.1', () => {
  process.send({ port: server.address().port });
  if (block && stallMs > 0) blockStalls();
});

/** Blocks the event loop until the stall under way (if any) ends, then waits for the next. */
function blockStalls() {
  const phase = (now() - origin) % periodMs;
  if (phase < stallMs) {
    const end = now() + stallMs - phase;
    while (now() < end);
  }
  setTimeout(blockStalls, periodMs - ((now() - origin) % periodMs));
}

// 'arrivals': the arrival times so far, then a fresh record; 'connections': how many
// connections were opened to it so far
process.on('message', (message) => {
  if (message === 'connections') return process.send({ connections });
  process.send({ arrivals });
  arrivals = [];
});
process.on('disconnect', () => process.exit(0));
