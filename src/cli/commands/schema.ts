import type { Command } from 'commander';
import { globals } from '../global-options.js';

/** Every file scaffold reads has a JSON Schema, for editors and for people. */
const SCHEMAS: Record<string, () => Promise<Record<string, unknown>>> = {
  spec: async () => (await import('../../spec/schema.js')).specJsonSchema(),
  scenario: async () => (await import('../../simulate/load/scenario.js')).scenarioJsonSchema(),
  experiment: async () => (await import('../../simulate/chaos/experiment.js')).experimentJsonSchema(),
};

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print a JSON Schema: of scaffold.yaml (default), a load scenario or a chaos experiment')
    .argument('[file]', `which: ${Object.keys(SCHEMAS).join(', ')}`, 'spec')
    .action(async (name: string, _options: object, command: Command) => {
      const cli = globals(command);
      const schema = Object.hasOwn(SCHEMAS, name) ? SCHEMAS[name] : undefined;
      if (!schema) {
        const { UserError } = await import('../../errors.js');
        throw new UserError(`no schema "${name}": choose ${Object.keys(SCHEMAS).join(' or ')}`);
      }
      const json = await schema();
      cli.output.data(json, JSON.stringify(json, null, 2));
    });
}
