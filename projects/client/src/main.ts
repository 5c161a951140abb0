// The `veil` command (npx veil …): see bases/cli for the commands.
import { runCli } from '@veil/cli';

process.exitCode = await runCli(process.argv.slice(2));
