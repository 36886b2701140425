import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { tempDir } from './cli.js';
import { frontPort } from './services.js';

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
