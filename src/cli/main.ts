import { Command } from 'commander';
import { LOSSCAPE_VERSION } from '../shared/version';
import { landscapeCommand } from './commands/landscape';
import { grokkingCommand } from './commands/grokking';
import { trajectoryCommand } from './commands/trajectory';
import { hessianCommand } from './commands/hessian';
import { sharpnessCommand } from './commands/sharpness';
import { pruneSaliencyCommand } from './commands/pruneSaliency';
import { reportCommand } from './commands/report';
import { compareLossesCommand } from './commands/compareLosses';
import { scalingCommand } from './commands/scaling';

/** `losscape`: the headless CLI; it drives the same engine process as the VS Code extension. */
const program = new Command('losscape')
  .description('Loss-landscape, curvature, sharpness and grokking analysis of neural networks (TensorFlow.js engine).')
  .version(LOSSCAPE_VERSION)
  // A usage error is one line too: the message, and where to look.
  .configureOutput({ outputError: (str, write) => write(`${str.split('\n')[0]} (run with --help for usage)\n`) })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

for (const make of [landscapeCommand, hessianCommand, sharpnessCommand, pruneSaliencyCommand, grokkingCommand, trajectoryCommand, compareLossesCommand, scalingCommand, reportCommand]) {
  // addCommand does not pass settings down: each subcommand gets the one-line errors and exit code 2.
  program.addCommand(make().copyInheritedSettings(program));
}

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`losscape: ${err.message}\n`);
  process.exit(1);
});
