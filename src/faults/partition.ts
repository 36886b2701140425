import type { FaultKind } from './kind.js';

/** New and open connections are cut at once (`refuse`) or accepted and never answered
 * (`blackhole`). */
export type PartitionFault = { kind: 'partition'; mode: 'refuse' | 'blackhole' };

export const partition: FaultKind<PartitionFault> = {
  kind: 'partition',
  description: 'cut the service off: connections refused, or accepted and never answered',
  fields: {
    mode: { type: 'choice', choices: ['refuse', 'blackhole'], default: 'refuse', flag: '--mode <mode>', description: 'refuse: reset at once; blackhole: never answered', expected: 'a partition refuses or blackholes' },
  },
  layer: 'bytes',
  onConnection: ({ mode }) => mode,
  support: {
    process: 'refuse or blackhole, on service ports and links; servers\' links',
    compose: 'a service: a network disconnect (no refuse/blackhole, not one link); a server: its fault proxy (root)',
  },
};
