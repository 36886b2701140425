import { runCli } from './program.js';

// `scaffold logs orders | head`: a reader that stops reading ends us quietly, like any CLI
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv);
