import type { Generator } from './project.js';

const K8S = 'deploy/k8s';

/** Kustomize layout: a base with every service's objects, and dev/prod overlays. */
export const kubernetesFiles: Generator = (tree, renderer, project) => {
  for (const service of project.services) {
    for (const file of renderer.renderGroup('k8s/base/service', { project, service })) {
      tree.write(`${K8S}/base/${service.name}/${file.path}`, file.content, 'managed');
    }
  }
  tree.write(`${K8S}/base/kustomization.yaml`, renderer.render('k8s/base/kustomization.yaml.hbs', { project }), 'managed');
  for (const file of renderer.renderGroup('k8s/overlays', { project })) {
    tree.write(`${K8S}/overlays/${file.path}`, file.content, 'managed');
  }
};
