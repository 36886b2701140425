import { share } from './field.js';
import type { FaultKind } from './kind.js';

/** A share of requests has its connection reset (TCP RST) as it arrives. */
export type ResetFault = { kind: 'reset'; rate: number };

export const reset: FaultKind<ResetFault> = {
  kind: 'reset',
  description: 'reset a share of connections (TCP RST)',
  fields: { rate: share('0.2 for 20%') },
  layer: 'bytes',
  onRequest: ({ rate }) => (Math.random() < rate ? { reset: true } : undefined),
  support: {
    process: 'service ports and links; servers\' links',
    compose: 'a fault proxy in the container\'s network namespace (root); `--from` by the caller\'s addresses',
  },
};
