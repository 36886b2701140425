// Build step after tsc: a pattern's templates and slots sit beside its code in
// src/patterns/<name>/ and go along with it into dist/ (tsc emits only the code); so do the
// OTLP .proto files the trace receiver decodes with.
import { cpSync } from 'node:fs';

cpSync('src/patterns', 'dist/patterns', {
  recursive: true,
  filter: (source) => !source.endsWith('.ts') || /[\\/](templates|slots)[\\/]/.test(source),
});

cpSync('src/runtime/traces/proto', 'dist/runtime/traces/proto', { recursive: true });
