import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { SystemStatus } from '../../src/runtime/runtime.js';
import { scaffold } from '../support/cli.js';
import { copyProject } from '../support/project-copy.js';
import { processesUnder } from '../support/services.js';

const shared = inject('sampleProject');

/** The first line a server sends after `send` (or on connect, without it). */
function firstLine(url: string, send?: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => send && socket.write(send));
    socket.setEncoding('utf8');
    socket.once('data', (data: string) => {
      socket.destroy();
      resolve(data.split('\r\n')[0]!);
    });
    socket.once('error', reject);
  });
}

describe('infrastructure on the process runtime', () => {
  let project: string;
  let system: SystemStatus;

  beforeAll(async () => {
    project = await copyProject(shared);
    const specFile = path.join(project, 'scaffold.yaml');
    const document = parseDocument(readFileSync(specFile, 'utf8'));
    // a second PostgreSQL, named by the user, used by nobody: its data is the project's too
    document.set('infrastructure', { postgres: {}, ledger: { kind: 'postgres' }, redis: {}, nats: {} });
    document.setIn(['services', 'users', 'uses'], ['postgres', 'redis', 'nats']);
    writeFileSync(specFile, document.toString());
    const up = await scaffold(['up', '--json'], { cwd: project });
    expect(up.exitCode, up.stderr).toBe(0);
    system = JSON.parse(up.stdout);
  });
  afterAll(async () => {
    // the data too: postgres keeps its own in the temp folder under root, outside the project
    await scaffold(['down', '--volumes'], { cwd: project });
  });

  const url = (name: string) => system.infrastructure.find((infra) => infra.name === name)!.url;
  /** Where each server says it keeps its data: PostgreSQL's data_directory, Redis's dir. */
  let dataDirs: Record<string, string>;

  it('starts every declared server, healthy, on its own port', () => {
    expect(system.infrastructure.map((infra) => [infra.name, infra.kind, infra.instance.healthy])).toEqual([
      ['postgres', 'postgres', true],
      ['ledger', 'postgres', true],
      ['redis', 'redis', true],
      ['nats', 'nats', true],
    ]);
  });

  it('postgres is a real PostgreSQL with the project database', async () => {
    const client = new pg.Client({ connectionString: url('postgres') });
    await client.connect();
    const { rows } = await client.query('SELECT current_database() AS db, version() AS version');
    await client.end();
    expect(rows[0]).toMatchObject({ db: 'shop', version: expect.stringMatching(/^PostgreSQL \d+/) });
  });

  it('redis and nats speak their protocols, directly and through a service\'s link', async () => {
    const link = (kind: string) => system.infrastructure.find((infra) => infra.kind === kind)!.links!.find((l) => l.from === 'users')!.url;
    for (const at of [url, link]) {
      expect(await firstLine(at('redis'), 'PING\r\n')).toBe('+PONG');
      expect(await firstLine(at('nats'))).toMatch(/^INFO \{/);
    }
    const client = new pg.Client({ connectionString: link('postgres') });
    await client.connect();
    const { rows } = await client.query('SELECT current_database() AS db');
    await client.end();
    expect(rows[0]).toEqual({ db: 'shop' });
  });

  it('passes the connection URLs to the services that use them: their own links to each server', () => {
    const users = system.services.find((s) => s.name === 'users')!.instances[0]!;
    const environ = readFileSync(`/proc/${users.pid}/environ`, 'utf8').split('\0');
    const link = (kind: string) => system.infrastructure.find((infra) => infra.kind === kind)!.links!.find((l) => l.from === 'users')!.url;
    expect(environ).toEqual(expect.arrayContaining([`DATABASE_URL=${link('postgres')}`, `REDIS_URL=${link('redis')}`, `NATS_URL=${link('nats')}`]));
    const orders = system.services.find((s) => s.name === 'orders')!.instances[0]!;
    expect(readFileSync(`/proc/${orders.pid}/environ`, 'utf8')).not.toContain('DATABASE_URL=');
  });

  it('down stops the servers too', async () => {
    dataDirs = { redis: (await execa('redis-cli', ['-u', url('redis'), 'CONFIG', 'GET', 'dir'])).stdout.split('\n')[1]! };
    for (const name of ['postgres', 'ledger']) {
      const client = new pg.Client({ connectionString: url(name) });
      await client.connect();
      dataDirs[name] = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
      await client.end();
    }
    expect((await scaffold(['down'], { cwd: project })).exitCode).toBe(0);
    expect(processesUnder(project)).toEqual([]);
    // postgres works in its own data folder, so its port is the proof it is gone
    for (const name of ['postgres', 'ledger', 'redis', 'nats']) {
      await expect(firstLine(url(name), 'PING\r\n'), name).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('keeps the servers\' data after a down, and down --volumes removes it: every entry\'s, a second PostgreSQL\'s too', async () => {
    const data = Object.values(dataDirs);
    expect(new Set(data).size).toBe(3);
    expect(data.filter(existsSync)).toEqual(data);
    expect((await scaffold(['down', '--volumes'], { cwd: project })).exitCode).toBe(0);
    expect(data.filter(existsSync)).toEqual([]);
  });
});
