import path from 'node:path';
import { runBinary } from '../../infrastructure/binary.js';
import type { ServerStart } from '../../infrastructure/kind.js';

/** The configuration LocalPrometheus writes into Prometheus's folder before it starts. */
export const CONFIG_FILE = 'prometheus.json';

/** Debian's (or any) `prometheus` from PATH, on loopback, with its data beside its config:
 * a run's metrics, kept a day at most. Its scrape manager takes new targets every second
 * rather than every 5 s (its default): with its discovery's own 5 s, an instance that
 * joins is scraped within about two scrape intervals of the default 5 s. */
export const start: ServerStart = ({ port, dataDir }) =>
  runBinary('prometheus', [
    `--config.file=${path.join(dataDir, CONFIG_FILE)}`,
    `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
    '--storage.tsdb.retention.time=1d',
    `--web.listen-address=127.0.0.1:${port}`,
    '--scrape.discovery-reload-interval=1s',
  ]);
