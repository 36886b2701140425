import path from 'node:path';

/**
 * Everything scaffold keeps in a project's `.scaffold/` folder, in one place. The relative
 * paths are what README and messages name; `scaffoldPaths` resolves them in a project.
 */
export const SCAFFOLD_DIR = '.scaffold';
/** Hashes of every file scaffold wrote: how it tells a user's edit from its own. */
export const MANIFEST_FILE = `${SCAFFOLD_DIR}/manifest.json`;
/** The JSON Schema of scaffold.yaml, for editors. */
export const SCHEMA_FILE = `${SCAFFOLD_DIR}/scaffold.schema.json`;
/** The project's own versions of built-in templates, file by file. */
export const OVERRIDES_DIR = `${SCAFFOLD_DIR}/templates`;
/** Every load and experiment result, as JSON. */
export const RESULTS_DIR = `${SCAFFOLD_DIR}/results`;

export function scaffoldPaths(projectDir: string) {
  const root = path.join(projectDir, SCAFFOLD_DIR);
  return {
    /** The process runtime's state, logs and control socket. */
    run: path.join(root, 'run'),
    /** Infrastructure data: outlives a run, like a named volume. */
    data: path.join(root, 'data'),
    /** The runtime `up` last used. */
    runtime: path.join(root, 'runtime.json'),
    /** compose v1's copy of compose.yaml (without the top-level name it predates). */
    composeV1: path.join(root, 'compose', 'compose.v1.yaml'),
    /** The compose runtime's trace receiver: its pid, address and log. */
    composeTraces: path.join(root, 'compose', 'traces'),
    /** The compose runtime's fault keepers' records. */
    composeFaults: path.join(root, 'compose', 'faults'),
  };
}
