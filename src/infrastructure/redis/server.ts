import { runBinary } from '../binary.js';
import type { ServerStart } from '../kind.js';

/** No snapshots, no append-only file: a local run's cache is not worth the disk. A queue's
 * Redis adds its own arguments after these (later ones win). */
export const start: ServerStart = ({ port, dataDir, args }) =>
  runBinary('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '', '--appendonly', 'no', ...(args ?? [])]);
