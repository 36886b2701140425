import { milliseconds } from './field.js';
import type { FaultKind } from './kind.js';

/** Every request waits `ms` (± `jitterMs`) before it goes on. */
export type LatencyFault = { kind: 'latency'; ms: number; jitterMs?: number };

export const latency: FaultKind<LatencyFault> = {
  kind: 'latency',
  description: 'delay every request (or, on an infrastructure server, every command)',
  fields: {
    ms: milliseconds('--ms <ms>', 'added latency'),
    jitterMs: milliseconds('--jitter <ms>', '± this much', 0),
  },
  layer: 'bytes',
  onRequest: ({ ms, jitterMs = 0 }) => ({ delayMs: Math.max(0, ms + jitterMs * (2 * Math.random() - 1)) }),
  support: {
    process: 'service ports and links; servers\' links',
    compose: 'a fault proxy in the container\'s network namespace (root); `--from` by the caller\'s addresses',
  },
};
