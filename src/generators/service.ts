import type { Generator } from './project.js';
import { VERSIONS } from './versions.js';

/** Code under src/generated/ follows the spec; the rest of a service is the user's. */
const GENERATED_DIR = 'src/generated/';

/** A service's code: the templates common to every pattern, then its pattern's own. */
export const serviceFiles: Generator = (tree, renderer, project) => {
  for (const service of project.services) {
    const context = { project, service, versions: VERSIONS };
    const files = [
      ...renderer.renderGroup('service/common', context),
      ...renderer.renderGroup(`service/${service.pattern}`, context),
    ];
    for (const file of files) {
      tree.write(
        `services/${service.name}/${file.path}`,
        file.content,
        file.path.startsWith(GENERATED_DIR) ? 'managed' : 'seed',
      );
    }
  }
};
