// Build step after tsc: a pattern's templates and slots sit beside its code in
// src/patterns/<name>/ (an infrastructure kind's client templates in
// src/infrastructure/<kind>/) and go along with it into dist/ (tsc emits only the code); so
// do the OTLP .proto files the trace receiver decodes with.
import { cpSync } from 'node:fs';

for (const folder of ['patterns', 'infrastructure']) {
  cpSync(`src/${folder}`, `dist/${folder}`, {
    recursive: true,
    filter: (source) => !source.endsWith('.ts') || /[\\/](templates|slots)[\\/]/.test(source),
  });
}

cpSync('src/runtime/traces/proto', 'dist/runtime/traces/proto', { recursive: true });
