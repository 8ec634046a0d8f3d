// The command line. Each command is a module in src/commands/ (yargs command module shape).
import yargs, { CommandModule } from "yargs";
import { hideBin } from "yargs/helpers";
import { UsageError } from "./options.js";
import { VERSION } from "./version.js";
import { setCompression } from "./arrow.js";
import * as run from "./commands/run.js";
import * as fit from "./commands/fit.js";
import * as report from "./commands/report.js";
import * as sweep from "./commands/sweep.js";
import * as merge from "./commands/merge.js";
import * as reproduce from "./commands/reproduce.js";
import * as slurm from "./commands/slurm.js";
import * as status from "./commands/status.js";
import * as exporter from "./commands/export.js";

const COMMANDS = [run, sweep, merge, slurm, status, fit, report, reproduce, exporter] as unknown as CommandModule[];

export async function main(args = hideBin(process.argv)): Promise<void> {
  const fail = (msg: string) => {
    process.stderr.write(`groksweep: ${msg}\n`);
    process.exit(2);
  };
  try {
    let y = yargs(args).scriptName("groksweep");
    for (const c of COMMANDS) y = y.command(c);
    await y
      .middleware((argv) => setCompression(argv.compression)) // of the commands that write curves
      .demandCommand(1, `name a command: ${COMMANDS.map((c) => String(c.command).split(" ")[0]).join(", ")}`)
      .strict()
      .version(VERSION)
      .fail((msg, err) => {
        if (err) throw err;
        // yargs says "Unknown argument: bogus"; name it as typed
        fail(
          msg.replace(
            /^Unknown arguments?: (.*)$/,
            (_m, a: string) =>
              `unknown option ${a
                .split(", ")
                .map((x) => (x.length > 1 ? "--" : "-") + x)
                .join(", ")}`,
          ),
        );
      })
      .parseAsync();
  } catch (e) {
    if (e instanceof UsageError) fail(e.message);
    throw e;
  }
}
