#!/usr/bin/env node
// Entry point of the `scenescope` command: the compiled CLI lives in dist/ (built by `npm install`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`scenescope: internal error: ${error?.stack ?? error}\n`);
    process.exitCode = 70;
  },
);
