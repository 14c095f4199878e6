/** The `runmat-telemetry` command (bin/runmat-telemetry.js imports this file). */
import { runCli } from './cli/run-cli.js';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
process.exitCode = code;
