import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { batchedPerTurn } from '../src/platform/log-destination.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the log destination', () => {
  it("writes a turn's lines once that turn is over, in one write and in order", async () => {
    const writes: string[] = [];
    const destination = batchedPerTurn({ write: (chunk: string) => void writes.push(chunk) });
    destination.write('a\n');
    destination.write('b\n');
    destination.write('c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
    destination.write('d\n');
    await nextTurn();
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes the lines still pending when the process exits', async () => {
    const fixture = fileURLToPath(new URL('fixtures/log-and-exit.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, '20000'], { maxBuffer: 1 << 24 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines.every((line, index) => JSON.parse(line).line === index)).toBe(true);
  });
});
