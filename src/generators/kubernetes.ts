import type { Generator } from './project.js';

const K8S = 'deploy/k8s';

/** Kustomize layout: a base with every service's and infrastructure server's objects (a
 * folder each), dev/prod overlays, and components an overlay may add (monitoring). */
export const kubernetesFiles: Generator = (tree, renderer, project) => {
  for (const service of project.services) {
    for (const file of renderer.renderGroup('k8s/base/service', { project, service })) {
      tree.write(`${K8S}/base/${service.name}/${file.path}`, file.content, 'managed');
    }
  }
  const infrastructureResources: string[] = [];
  for (const infra of project.infrastructure) {
    for (const file of renderer.renderGroup('k8s/base/infrastructure', { project, infra })) {
      tree.write(`${K8S}/base/${infra.name}/${file.path}`, file.content, 'managed');
      infrastructureResources.push(`${infra.name}/${file.path}`);
    }
  }
  const kustomization = renderer.render('k8s/base/kustomization.yaml.hbs', { project, infrastructureResources });
  tree.write(`${K8S}/base/kustomization.yaml`, kustomization, 'managed');
  for (const file of renderer.renderGroup('k8s/overlays', { project })) {
    tree.write(`${K8S}/overlays/${file.path}`, file.content, 'managed');
  }
  // opt-in, for clusters with the Prometheus Operator: an overlay lists it under components
  for (const file of renderer.renderGroup('k8s/components', { project })) {
    tree.write(`${K8S}/components/${file.path}`, file.content, 'managed');
  }
};
