import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allPatterns, defaultPattern } from '../../src/patterns/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README's pattern table, as the registry says it should read. */
function expectedRows(): string[] {
  return allPatterns().map((pattern) => {
    const own = Object.keys(pattern.fields?.({ z, serviceName: z.string(), queueName: z.string() }) ?? {});
    const name = `\`${pattern.name}\`${pattern === defaultPattern() ? ' (default)' : ''}`;
    const fields = own.length > 0 ? own.map((field) => `\`${field}\``).join(', ') : '—';
    const scenarios = pattern.scenarios.length > 0 ? pattern.scenarios.join(', ') : '—';
    return `| ${name} | ${pattern.description} | ${fields} | ${scenarios} |`;
  });
}

describe('the pattern registry', () => {
  it('is what the README\'s pattern table says', () => {
    const header = '| pattern | what it is | its own fields | built-in scenarios that may pick it |';
    const lines = readme.split('\n');
    const start = lines.indexOf(header);
    expect(start, 'the README has the pattern table').toBeGreaterThan(-1);
    const rows: string[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(line);
    }
    expect(rows).toEqual(expectedRows());
  });
});
