import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, scaffold, tempDir } from '../support/cli.js';
import { waitUntil } from '../support/services.js';

// A real terminal: tmux runs the CLI on a pty, types into its prompts and reads the screen.
const session = `scaffold-prompts-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

afterEach(() => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone
  }
});

it('asks for what the flags left open, on a TTY, and takes the answers', async () => {
  const parent = tempDir();
  await scaffold(['init', 'shop', '--yes'], { cwd: parent });
  await scaffold(['--cwd', 'shop', 'new-service', 'users', '--yes'], { cwd: parent });
  const project = path.join(parent, 'shop');
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `cd ${project} && env -u CI NO_COLOR=1 node ${BIN} new-service orders; sleep 30`);

  await waitUntil(async () => screen().includes('? Pattern'), 10_000);
  tmux('send-keys', '-t', session, 'Enter'); // http-api, the first choice
  await waitUntil(async () => screen().includes('? Port (3002)'), 10_000);
  tmux('send-keys', '-t', session, '-l', '3100');
  tmux('send-keys', '-t', session, 'Enter');
  await waitUntil(async () => screen().includes('? Calls (dependsOn)'), 10_000);
  tmux('send-keys', '-t', session, 'Space'); // users
  tmux('send-keys', '-t', session, 'Enter');
  await waitUntil(async () => /done: \d+ create/.test(screen()), 20_000);

  const spec = parse(readFileSync(path.join(project, 'scaffold.yaml'), 'utf8'));
  expect(spec.services.orders).toEqual({ pattern: 'http-api', port: 3100, dependsOn: ['users'] });
});
