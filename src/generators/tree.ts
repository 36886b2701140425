/**
 * How a generated file relates to its user:
 * - managed: derived from scaffold.yaml and re-rendered on every run (Dockerfiles, compose,
 *   Kubernetes, `src/generated/`); an edit to it is a conflict.
 * - seed: a starting point the user then owns (service code, tests, READMEs); updated only
 *   while the user has not touched it.
 * - user: a file of the user's that the command changed on purpose (scaffold.yaml).
 */
export type FileMode = 'managed' | 'seed' | 'user';

export interface TreeFile {
  path: string;
  content: string;
  mode: FileMode;
}

/** A virtual file tree: generators write here, and only `commit` touches the disk. */
export class Tree {
  readonly #files = new Map<string, TreeFile>();

  write(path: string, content: string, mode: FileMode): void {
    this.#files.set(path, { path, content, mode });
  }

  read(path: string): string | undefined {
    return this.#files.get(path)?.content;
  }

  files(): TreeFile[] {
    return [...this.#files.values()].sort((a, b) => a.path.localeCompare(b.path));
  }
}
