import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { arrivalTimes } from './arrivals.js';
import type { LoadOptions } from './engine.js';
import { followSchedule, rampsOf } from './open-model.js';
import { ProcessedSeries } from './processed-series.js';
import type { Recorder } from './recorder.js';
import type { EventsMeasured } from './result.js';

export interface PublishTarget {
  /** The NATS server's own URL (outside every link). */
  url: string;
  topic: string;
  /** The consumer groups that subscribe to it: an event is processed once every one has
   * acknowledged it. */
  groups: string[];
}

/** How often the groups' acknowledgement floors are read: the resolution of end-to-end
 * latency. */
const POLL_MS = 20;

/**
 * The open model, publishing to a topic: each event is due at its time from the schedule
 * and published then (with a message id, as the generated publisher does), whatever the
 * ones before are doing. Its publish latency — due to stored (JetStream's acknowledgement)
 * — goes to the recorder as a request's would. End to end, an event counts as processed
 * when every group's acknowledgement floor (JetStream's own: every event up to it is
 * acknowledged) has passed its sequence, read every 20 ms; its latency is from when it was
 * due. Each second's backlog is what the groups hold unacknowledged (not yet delivered, or
 * in flight), at the end of the second.
 */
export async function runPublishModel(recorder: Recorder, options: LoadOptions, target: PublishTarget): Promise<EventsMeasured> {
  const connection = await connect({ servers: target.url, name: 'scaffold simulate load', timeout: options.timeoutMs, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const js = jetstream(connection);
  const manager = await jetstreamManager(connection);
  const run = randomUUID().slice(0, 8);
  const dueOf = new Map<number, number>();
  const processed = new ProcessedSeries();
  let inFlight = 0;
  let floor = await ackFloor(manager, target);

  recorder.restart();
  const start = performance.now();
  const secondOf = (now: number) => (now - recorder.start) / 1000;

  let polling = true;
  const poller = (async () => {
    while (polling) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const state = await groupsState(manager, target).catch(() => undefined);
      if (!state) continue;
      const now = performance.now();
      const second = secondOf(now);
      processed.backlog(second, state.backlog);
      for (let seq = floor + 1; seq <= state.floor; seq += 1) {
        const due = dueOf.get(seq);
        if (due === undefined) continue; // another publisher's event
        dueOf.delete(seq);
        processed.processed(second, now - due);
      }
      floor = Math.max(floor, state.floor);
    }
  })();

  let sent = 0;
  const send = (dueMs: number) => {
    const due = start + dueMs;
    const id = `${run}-${sent++}`;
    inFlight += 1;
    js.publish(target.topic, JSON.stringify({ id, publishedAt: new Date().toISOString() }), { msgID: id, timeout: options.timeoutMs }).then(
      (ack) => {
        inFlight -= 1;
        if (!ack.duplicate) dueOf.set(ack.seq, due);
        recorder.answer(200, performance.now() - due);
      },
      (error: Error & { code?: string }) => {
        inFlight -= 1;
        recorder.fail(/timeout/i.test(error.message) ? 'timeout' : (error.code ?? error.name));
      },
    );
  };
  try {
    await followSchedule(arrivalTimes(rampsOf(options), options.arrival, options.amount), start, send, options.signal);
    while (inFlight > 0 && !options.signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
    // then until every stored event is processed, for as long as a request may take
    const deadline = performance.now() + options.timeoutMs;
    while (dueOf.size > 0 && performance.now() < deadline && !options.signal?.aborted) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  } finally {
    polling = false;
    await poller;
    await connection.close();
  }
  return {
    topic: target.topic,
    groups: target.groups,
    processed: processed.count,
    unprocessed: dueOf.size,
    endToEnd: processed.endToEnd(),
    series: processed.series(),
  };
}

/** The lowest acknowledgement floor of the groups, and what they hold unacknowledged. */
async function groupsState(manager: JetStreamManager, target: PublishTarget): Promise<{ floor: number; backlog: number }> {
  const infos = await Promise.all(target.groups.map((group) => manager.consumers.info(target.topic, group)));
  return {
    floor: Math.min(...infos.map((info) => info.ack_floor.stream_seq)),
    backlog: infos.reduce((total, info) => total + info.num_pending + info.num_ack_pending, 0),
  };
}

async function ackFloor(manager: JetStreamManager, target: PublishTarget): Promise<number> {
  if (target.groups.length > 0) return (await groupsState(manager, target)).floor;
  return (await manager.streams.info(target.topic)).state.last_seq;
}
