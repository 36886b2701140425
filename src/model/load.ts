import { loadSpec, type LoadedSpec } from '../spec/load.js';
import { projectModel, type ProjectModel } from './project.js';

/** What a command knows of the project: its validated spec (with the YAML document, for
 * writes that keep its comments) and the model made from it. */
export interface Model extends LoadedSpec {
  project: ProjectModel;
}

/** Reads and validates scaffold.yaml: the CLI does it once per command and hands the result
 * on, so no runtime, generator or load reads the file again (and none sees another version). */
export async function loadModel(projectDir: string): Promise<Model> {
  const loaded = await loadSpec(projectDir);
  return { ...loaded, project: projectModel(loaded.spec) };
}
