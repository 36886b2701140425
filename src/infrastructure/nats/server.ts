import { runBinary } from '../binary.js';
import type { ServerStart } from '../kind.js';

export const start: ServerStart = ({ port, dataDir }) =>
  runBinary('nats-server', ['--port', String(port), '--addr', '127.0.0.1', '--jetstream', '--store_dir', dataDir]);
