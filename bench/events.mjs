// Events/s through the generated publisher → subscriber (a generated service's
// src/platform/events.ts, as built in a project) vs the official NATS client alone, both
// on one nats-server with JetStream: the same number of events, the same number of
// publishes in flight, the subscriber in a process of its own either way, acknowledging
// each event; measured from the first publish to the group's acknowledgement floor
// reaching the last (JetStream's own count). Usage: node bench/events.mjs [--quick]
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { featureProject, freePort, medianRatio, quick, startDirect } from './lib.mjs';

const EVENTS = quick ? 5_000 : 20_000;
const IN_FLIGHT = 256;
const CONCURRENCY = 64;
const ROUNDS = quick ? 1 : 3;

const children = [];
const { dir, parent } = await featureProject(
  ([pubPort, subPort]) =>
    `name: bench\nservices:\n  pub: { port: ${pubPort}, publishes: [bench] }\n  sub: { port: ${subPort}, subscribes: [{ topic: bench, concurrency: ${CONCURRENCY} }] }\n` +
    'infrastructure:\n  nats:\n    topics:\n      bench: {}\n',
  // a handler that does nothing, as the baseline's consumer does
  (project) =>
    writeFileSync(
      path.join(project, 'services/sub/src/events.ts'),
      "import type { Handlers } from './generated/nats.js';\nexport interface Payloads { bench: Record<string, unknown> }\nexport const handlers: Handlers = { bench: async () => {} };\n",
    ),
);
try {
  const natsPort = await freePort();
  const url = `nats://127.0.0.1:${natsPort}`;
  const server = spawn('nats-server', ['-js', '-p', String(natsPort), '-a', '127.0.0.1', '--store_dir', path.join(parent, 'js')], { stdio: 'ignore' });
  children.push(() => server.kill());
  await new Promise((resolve) => setTimeout(resolve, 500));
  const connection = await connect({ servers: url });
  const manager = await jetstreamManager(connection);

  /** Publishes EVENTS with at most IN_FLIGHT unacknowledged, then waits for the group. */
  async function measure(publish, stream, group) {
    const start = performance.now();
    let next = 0;
    let last = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < EVENTS) {
          const i = next++;
          last = Math.max(last, await publish(i));
        }
      }),
    );
    for (;;) {
      const info = await manager.consumers.info(stream, group);
      if (info.ack_floor.stream_seq >= last) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return EVENTS / ((performance.now() - start) / 1000);
  }

  // the official client alone: a stream, a durable pull consumer acking each event
  await manager.streams.add({ name: 'raw', subjects: ['raw'] });
  await manager.consumers.add('raw', { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const consumerScript = `
    import { connect } from '@nats-io/transport-node';
    import { jetstream } from '@nats-io/jetstream';
    const nc = await connect({ servers: ${JSON.stringify(url)} });
    const messages = await (await jetstream(nc).consumers.get('raw', 'raw')).consume({ max_messages: ${CONCURRENCY} });
    for await (const message of messages) { message.json(); message.ack(); }`;
  const consumer = spawn(process.execPath, ['--input-type=module', '-e', consumerScript], { cwd: dir, stdio: 'ignore' });
  children.push(() => consumer.kill());
  const js = jetstream(connection);
  const body = JSON.stringify({ id: 'x', at: new Date().toISOString() });
  let rawRun = 0;
  const raw = async () => {
    rawRun += 1;
    return measure(async (i) => (await js.publish('raw', body, { msgID: `r${rawRun}-${i}` })).seq, 'raw', 'raw');
  };

  // the generated ones: the subscriber service, and its publisher class in this process
  const sub = await startDirect(dir, 'sub', { NATS_URL: url });
  children.push(() => sub.stop());
  const { Events } = await import(pathToFileURL(path.join(dir, 'services/pub/dist/platform/events.js')).href);
  const { TOPICS } = await import(pathToFileURL(path.join(dir, 'services/pub/dist/generated/nats.js')).href);
  const quiet = { info() {}, warn() {}, error() {}, child() { return quiet; } };
  const events = new Events({ url, serviceName: 'bench', publishTimeoutMs: 5000, topics: TOPICS, subscriptions: [], handlers: new Map(), log: quiet });
  await events.start();
  const generated = () => measure(async () => (await events.publish('bench', { id: 'x', at: new Date().toISOString() })).sequence, 'bench', 'sub');

  const median = await medianRatio(raw, generated, { rounds: ROUNDS, unit: 'events/s', baseName: 'nats client alone', ourName: 'generated publisher → subscriber' });
  console.log(`events: generated publisher → subscriber vs the nats client alone (${EVENTS} events, ${IN_FLIGHT} publishes in flight, consumer concurrency ${CONCURRENCY}): median ratio ${median.toFixed(2)} (goal ≥ 0.8)`);
  await events.close();
  await connection.close();
} finally {
  for (const stop of children.reverse()) await stop();
  rmSync(parent, { recursive: true, force: true });
}
