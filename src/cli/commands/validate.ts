import type { Command } from 'commander';
import { globals } from '../global-options.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check scaffold.yaml (and that every template renders from it)')
    .action(async (_options: object, command: Command) => {
      const cli = globals(command);
      const { loadSpec } = await import('../../spec/load.js');
      const { generateProject } = await import('../../generators/project.js');
      const { spec, file } = await loadSpec(cli.cwd);
      const files = generateProject(spec, { projectDir: cli.cwd }).files().length;
      const services = Object.entries(spec.services).map(([name, service]) => ({
        name,
        pattern: service.pattern,
        port: service.port,
        replicas: service.replicas,
      }));
      cli.output.data(
        { valid: true, file, project: spec.name, services, files },
        `${file} is valid: project "${spec.name}", ${services.length} service${services.length === 1 ? '' : 's'}, ${files} generated files`,
      );
    });
}
