import type { Generator } from './project.js';

export const composeFiles: Generator = (tree, renderer, project) => {
  tree.write('compose.yaml', renderer.render('compose/compose.yaml.hbs', { project }), 'managed');
};
