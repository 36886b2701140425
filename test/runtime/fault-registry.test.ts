import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, parametersProblem, supportMatrix, type Fault } from '../../src/faults/index.js';
import { experimentJsonSchema, experimentSchema } from '../../src/simulate/chaos/experiment-schema.js';
import { REPO, scaffold, tempDir } from '../support/cli.js';

/** Every fault's values at and just beyond its bounds, from the registry itself. */
function edges(): { fault: Fault; ok: boolean }[] {
  return [...FAULT_KINDS.values()].flatMap((kind) => {
    const valid = Object.fromEntries(
      Object.entries(kind.fields).map(([name, field]) => [name, field.type === 'choice' ? field.choices[0] : field.max]),
    );
    return Object.entries(kind.fields).flatMap(([name, field]) => {
      const cases: [unknown, boolean][] =
        field.type === 'choice'
          ? [...field.choices.map((choice): [unknown, boolean] => [choice, true]), ['sideways', false]]
          : [[field.min, !field.aboveMin], [field.max, true], [field.max + 1, false], [field.min - 1, false]];
      return cases.map(([value, ok]) => ({ fault: { kind: kind.kind, ...valid, [name]: value } as Fault, ok }));
    });
  });
}

describe('the fault registry', () => {
  it('is the README\'s support matrix', () => {
    expect(readFileSync(path.join(REPO, 'README.md'), 'utf8')).toContain(`${supportMatrix()}\n`);
  });

  it('gives the runtimes\' checks and the experiment schema one set of bounds', () => {
    const cases = edges();
    expect(cases.filter((c) => !c.ok).length).toBeGreaterThan(4);
    for (const { fault, ok } of cases) {
      const runtime = parametersProblem(fault);
      const experiment = experimentSchema.shape.method.element.safeParse({ type: 'fault', service: 'a', fault, for: '1s' });
      expect([runtime === undefined, experiment.success], JSON.stringify(fault)).toEqual([ok, ok]);
    }
    const kinds = (experimentJsonSchema() as any).$defs ?? experimentJsonSchema(); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const kind of FAULT_KINDS.keys()) expect(JSON.stringify(kinds)).toContain(`"const":"${kind}"`);
  });

  it('gives the CLI a subcommand per kind, a flag per parameter, the same bounds', async () => {
    const cwd = tempDir();
    const help = await scaffold(['chaos', '--help'], { cwd });
    for (const kind of FAULT_KINDS.values()) {
      expect(help.stdout).toMatch(new RegExp(`\\n\\s+${kind.kind} \\[options\\] <service>`));
      const own = await scaffold(['chaos', kind.kind, '--help'], { cwd });
      for (const field of Object.values(kind.fields)) expect(own.stdout, kind.kind).toContain(field.flag);
    }
    // out of bounds: exit 2 and the registry's sentence, before anything runs
    for (const { fault, ok } of edges().filter((c) => !c.ok)) {
      const kind = FAULT_KINDS.get(fault.kind)!;
      const args = Object.entries(kind.fields).flatMap(([name, field]) => [field.flag.split(' ')[0]!, String((fault as unknown as Record<string, unknown>)[name])]);
      const result = await scaffold(['chaos', fault.kind, 'a', ...args], { cwd });
      expect([result.exitCode, ok], JSON.stringify(fault)).toEqual([2, false]);
      expect(result.stderr.trim().split('\n'), JSON.stringify(fault)).toHaveLength(1);
    }
  });
});
