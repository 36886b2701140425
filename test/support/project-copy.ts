import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { tempDir } from './cli.js';

/**
 * A private copy of the shared sample project (its node_modules linked, not copied, unless
 * the copy will install more: `ownModules`) with every service on a free port, so e2e files
 * can run systems side by side.
 */
export async function copyProject(shared: string, options: { ownModules?: boolean } = {}): Promise<string> {
  const dir = path.join(tempDir('scaffold-run-'), path.basename(shared));
  cpSync(shared, dir, {
    recursive: true,
    preserveTimestamps: true, // keeps builds newer than sources, so `up` does not rebuild
    // the workspace's links (node_modules/<service> → ../services/<service>) stay relative
    verbatimSymlinks: true,
    filter: (source) => (options.ownModules || source !== path.join(shared, 'node_modules')) && !source.includes(`${path.sep}.scaffold${path.sep}run`),
  });
  if (!options.ownModules) symlinkSync(path.join(shared, 'node_modules'), path.join(dir, 'node_modules'));
  await onFreePorts(dir);
  return dir;
}

/** Moves every service of a project to a free port, so that systems run side by side (and
 * beside whatever else holds the usual ports); returns each service's port. */
export async function onFreePorts(dir: string): Promise<Record<string, number>> {
  const specFile = path.join(dir, 'scaffold.yaml');
  const document = parseDocument(readFileSync(specFile, 'utf8'));
  const ports: Record<string, number> = {};
  for (const name of Object.keys(document.toJS().services)) {
    ports[name] = await frontPort();
    document.setIn(['services', name, 'port'], ports[name]);
  }
  writeFileSync(specFile, document.toString());
  return ports;
}

/**
 * Where front ports go: below the kernel's ephemeral range (32768 and up), from which every
 * outgoing connection takes its local port. A front port the kernel handed out as free was
 * in that range, and once a connection made in the minute between the copy and `up` took
 * it (one CI run: "port 36037 (front port of "orders") is taken").
 */
const FRONT_PORTS = { from: 20_000, to: 32_000 };
const handedOut = new Set<number>();

async function frontPort(): Promise<number> {
  for (;;) {
    const port = FRONT_PORTS.from + Math.floor(Math.random() * (FRONT_PORTS.to - FRONT_PORTS.from));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

/** On every address: a front port taken on any of them cannot be listened on. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}
