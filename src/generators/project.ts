import type { Spec } from '../spec/schema.js';
import { specJsonSchema } from '../spec/schema.js';
import { projectModel, type ProjectModel } from '../model/project.js';
import { composeFiles } from './compose.js';
import { dockerFiles } from './docker.js';
import { kubernetesFiles } from './kubernetes.js';
import { TemplateRenderer } from './render.js';
import { serviceFiles } from './service.js';
import { SCHEMA_FILE } from '../scaffold-dir.js';
import { Tree } from './tree.js';
import { VERSIONS } from './versions.js';

export interface GenerateOptions {
  /** The project's folder: its `.scaffold/templates/` override built-in templates. */
  projectDir?: string;
  baseImage?: string;
}

/** What a generator adds to the tree; all of them share one renderer and one view. */
export type Generator = (tree: Tree, renderer: TemplateRenderer, project: ProjectModel, spec: Spec) => void;

/** Every artifact the spec implies, as a virtual tree. Pure: reads only templates. */
export function generateProject(spec: Spec, options: GenerateOptions = {}): Tree {
  const tree = new Tree();
  const renderer = new TemplateRenderer(options.projectDir);
  const project = projectModel(spec, { baseImage: options.baseImage });
  for (const generator of [rootFiles, serviceFiles, dockerFiles, composeFiles, kubernetesFiles]) {
    generator(tree, renderer, project, spec);
  }
  return tree;
}

const rootFiles: Generator = (tree, renderer, project) => {
  for (const file of renderer.renderGroup('project', { project, versions: VERSIONS })) {
    tree.write(file.path, file.content, 'seed');
  }
  tree.write(SCHEMA_FILE, `${JSON.stringify(specJsonSchema(), null, 2)}\n`, 'managed');
};
