import 'reflect-metadata';
import { runCli } from './cli/program';

/** `node dist/src/main.js` is `broadsheet serve`. */
void runCli(['serve', ...process.argv.slice(2)]).then((code) => {
  process.exitCode = code;
});
