import type { Command } from 'commander';
import { globals } from '../global-options.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of scaffold.yaml')
    .action(async (_options: object, command: Command) => {
      const cli = globals(command);
      const { specJsonSchema } = await import('../../spec/schema.js');
      const schema = specJsonSchema();
      cli.output.data(schema, JSON.stringify(schema, null, 2));
    });
}
