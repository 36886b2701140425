import { afterAll } from 'vitest';
import { removeTempDirs } from './cli.js';

// A setup file: this runs in every test file, so the temp folders a file made go when it
// ends, whatever the outcome (a failing test's folder is named in its error output).
afterAll(removeTempDirs);
