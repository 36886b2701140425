import { fileURLToPath } from 'node:url';
import { definePattern } from '../pattern.js';

/** A REST service with an example resource: what most services start as. */
export const httpApi = definePattern({
  name: 'http-api',
  description: 'a REST service',
  templates: fileURLToPath(new URL('./templates/', import.meta.url)),
  slots: fileURLToPath(new URL('./slots/', import.meta.url)),
  // its app.ts mounts POST /orders when the service enqueues
  traits: { publicIngress: false, entryPoint: false, producerRoute: true },
  scenarios: ['replica-loss', 'outage-and-recovery', 'slow-dependency', 'flaky-dependency', 'dependency-down'],
  newService: {
    ask: { message: 'Calls (dependsOn)', field: 'dependsOn', allChecked: false, answer: (targets) => targets },
  },
});
