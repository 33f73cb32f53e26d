/**
 * A process entry for library commands, mainly `worker`: `node dist/src/cli/library-worker-entry.js [command]
 * [args...]`. Without a known command name first, it runs `worker` with all the arguments. `scenescope worker`
 * runs the same code through the main CLI.
 */
import { LIBRARY_COMMANDS, runLibraryCommand } from './library-commands.js';

const args = process.argv.slice(2);
const named = (LIBRARY_COMMANDS as readonly string[]).includes(args[0] ?? '');
runLibraryCommand(named ? args[0]! : 'worker', named ? args.slice(1) : args, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`scenescope: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  },
);
