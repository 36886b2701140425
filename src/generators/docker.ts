import type { Generator } from './project.js';

/** One multi-stage Dockerfile per service; the build context is the project root, where
 * the workspace lockfile is, so one .dockerignore there serves every image. */
export const dockerFiles: Generator = (tree, renderer, project) => {
  for (const service of project.services) {
    tree.write(`services/${service.name}/Dockerfile`, renderer.render('docker/Dockerfile.hbs', { project, service }), 'managed');
  }
  tree.write('.dockerignore', renderer.render('docker/_dockerignore.hbs', { project }), 'managed');
};
