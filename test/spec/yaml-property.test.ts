import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { Document, stringify } from 'yaml';
import { UserError } from '../../src/errors.js';
import { experimentSchema } from '../../src/simulate/chaos/experiment-schema.js';
import { parseSpec } from '../../src/spec/load.js';
import { parseYamlFile } from '../../src/spec/yaml-file.js';

/**
 * Whatever YAML a user writes, the loaders answer with the spec or with a UserError —
 * never a TypeError from a name that exists on every object, a ReferenceError from an
 * alias, or a hang from an alias bomb.
 */

const classic = readFileSync(new URL('../fixtures/classic.yaml', import.meta.url), 'utf8');

/** Keys and names users (and attackers) write: the schema's own, and the prototype's. */
const word = fc.constantFrom(
  'name', 'services', 'users', 'orders', 'api-gateway', 'port', 'pattern', 'gateway', 'http-api', 'replicas', 'dependsOn',
  'routes', '/users', '/../x', 'env', 'uses', 'postgres', 'health', 'liveness', 'infrastructure', 'constructor',
  '__proto__', 'toString', 'prototype', 'hasOwnProperty', 'valueOf', '<<', '', ' ', 'x\ny', '\u001b[31m',
);
const scalar = fc.oneof(word, fc.integer({ min: -5, max: 70_000 }), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 8 }));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalar, tie('map'), tie('list')),
  map: fc.dictionary(word, tie('node'), { maxKeys: 5 }),
  list: fc.array(tie('node'), { maxLength: 4 }),
})).node;

/** A service that is mostly well formed, so that the checks across services (references,
 * cycles, ports) run on the names it holds. */
const serviceLike = fc.record(
  {
    port: fc.oneof(fc.integer({ min: 1024, max: 65_535 }), scalar),
    pattern: fc.constantFrom('http-api', 'gateway'),
    dependsOn: fc.array(word, { maxLength: 3 }),
    routes: fc.dictionary(fc.constantFrom('/a', '/b', '/../x', '/c/d'), word, { maxKeys: 3 }),
  },
  { requiredKeys: ['port'] },
);
/** A spec-shaped document, its names and values drawn from the words above. */
const specLike = fc.record(
  { name: fc.oneof(fc.constant('shop'), fc.constant('shop'), scalar), services: fc.dictionary(word, fc.oneof(serviceLike, serviceLike, value), { maxKeys: 4 }), infrastructure: fc.oneof(fc.constant({}), fc.constant({}), value) },
  { requiredKeys: ['name'] },
);

/** Raw YAML text: pieces of the syntax in any order (anchors, aliases, merges, tags…). */
const token = fc.constantFrom(
  'name: shop\n', 'services:\n', '  users: ', '{ port: 3001 }', '&a ', '*a', '*b', '&b [*a, *a, *a]', '<<: *a\n', '- ', ': ', '{', '}', '[', ']', ',',
  '\n', '  ', '\t', '#', '"', "'", '!!str ', '!!binary ', '!custom ', '? ', '|\n', '>-\n', '---\n', '...\n', '%YAML 1.2\n', '__proto__', 'constructor',
  'dependsOn: [', 'routes: {', '/x: ', 'toString', '\u0000', '\ufeff', 'port: ', '99999', '0x10', '.inf', '~',
);
const rawText = fc.array(token, { maxLength: 40 }).map((parts) => parts.join(''));

/** Documents built by the yaml library itself, with anchors and aliases among them. */
const withAliases = fc.tuple(value, fc.integer({ min: 1, max: 12 })).map(([node, copies]) => {
  const document = new Document({ name: 'shop' });
  const shared = document.createNode(node);
  const anchor = document.createAlias(shared as never, 'a');
  document.set('x', shared);
  document.set('services', document.createNode(Object.fromEntries(Array.from({ length: copies }, (_, i) => [`s${i}`, anchor]))));
  return document.toString();
});

function loadsOrRefuses(load: (text: string) => unknown) {
  return (text: string) => {
    try {
      load(text);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
    }
  };
}

describe('any YAML document: the spec, or a UserError', () => {
  const loadSpec = loadsOrRefuses((text) => parseSpec(text, 'scaffold.yaml'));

  it('spec-shaped values with prototype names, wrong types and odd strings', () => {
    fc.assert(fc.property(specLike, (spec) => loadSpec(stringify(spec))), { numRuns: 400 });
  });

  it('the classic system with a part replaced by anything', () => {
    const lines = classic.split('\n');
    fc.assert(
      fc.property(fc.nat({ max: lines.length - 1 }), value, (line, replacement) => {
        const indent = /^\s*/.exec(lines[line]!)![0];
        const key = lines[line]!.trim().split(':')[0];
        const text = [...lines.slice(0, line), `${indent}${key}: ${stringify(replacement, { flowLevel: 0 }).trim()}`, ...lines.slice(line + 1)].join('\n');
        loadSpec(text);
      }),
      { numRuns: 400 },
    );
  });

  it('raw text from the pieces of YAML syntax', () => {
    fc.assert(fc.property(rawText, loadSpec), { numRuns: 1000 });
  });

  it('anchors and aliases, including ones expanded many times', () => {
    fc.assert(fc.property(withAliases, loadSpec), { numRuns: 200 });
  });

  it('an experiment file too', () => {
    const loadExperiment = loadsOrRefuses((text) => parseYamlFile(text, 'x.yaml', experimentSchema));
    fc.assert(fc.property(fc.oneof(rawText, value.map((v) => stringify(v))), loadExperiment), { numRuns: 400 });
  });
});
