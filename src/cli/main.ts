#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from './program';

/** `broadsheet …`: the one command line of Broadsheet (docs/cli.md). `serve` resolves once listening and keeps running. */
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`broadsheet: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
