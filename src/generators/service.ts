import { patternNamed } from '../patterns/index.js';
import type { Generator } from './project.js';
import { SERVICE_DEPENDENCIES, VERSIONS } from './versions.js';
import { serviceFeatures, type ServiceFeature } from '../patterns/service-features.js';
import type { ServiceModel } from '../model/project.js';
import { DEFAULT_POLICY } from '../spec/call-policy.js';

/** Code under src/generated/ follows the spec; the rest of a service is the user's. */
const GENERATED_DIR = 'src/generated/';

/** A service's code: the templates common to every pattern, their slots filled by its
 * pattern, its features' (the queues' client, a producer's POST /orders, the response
 * cache), the client templates of the servers it uses (NATS events), then its pattern's
 * own templates (which win where both have a file). */
export const serviceFiles: Generator = (tree, renderer, project) => {
  for (const service of project.services) {
    const pattern = patternNamed(service.pattern);
    const features = serviceFeatures(service);
    const context = { project, service, npmDependencies: npmDependencies(service, features), versions: VERSIONS, defaultPolicy: DEFAULT_POLICY };
    const slots = renderer.slotsIn(`slots/${pattern.name}`, pattern.slots);
    const files = [
      ...renderer.renderGroup('service/common', context, { slots }),
      ...features.flatMap((feature) => renderer.renderGroup(feature.templates, context, { slots })),
      ...service.uses.flatMap((infra) =>
        infra.kind.client?.templates ? renderer.renderGroup(`service/clients/${infra.kind.name}`, context, { from: infra.kind.client.templates, slots }) : [],
      ),
      ...renderer.renderGroup(`service/${pattern.name}`, context, { from: pattern.templates, slots }),
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

/** Its package.json's dependencies, by name: the common ones, its servers' clients', its
 * features', and its pattern's. */
function npmDependencies(service: ServiceModel, features: ServiceFeature[]): { name: string; version: string }[] {
  return Object.entries({
    ...SERVICE_DEPENDENCIES,
    ...Object.assign({}, ...service.uses.map((infra) => infra.kind.client?.npmDependencies ?? {})),
    ...Object.assign({}, ...features.map((feature) => feature.npmDependencies ?? {})),
    ...patternNamed(service.pattern).npmDependencies,
  } as Record<string, string>)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, version]) => ({ name, version }));
}
