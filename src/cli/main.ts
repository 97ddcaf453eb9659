import { Command } from 'commander';
import { LOSSCAPE_VERSION } from '../shared/version';
import { landscapeCommand } from './commands/landscape';
import { grokkingCommand } from './commands/grokking';
import { trajectoryCommand } from './commands/trajectory';
import { hessianCommand } from './commands/hessian';
import { sharpnessCommand } from './commands/sharpness';
import { pruneSaliencyCommand } from './commands/pruneSaliency';
import { reportCommand } from './commands/report';

/** `losscape`: the headless CLI; it drives the same engine process as the VS Code extension. */
const program = new Command('losscape')
  .description('Loss-landscape, curvature, sharpness and grokking analysis of neural networks (TensorFlow.js engine).')
  .version(LOSSCAPE_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program.addCommand(landscapeCommand());
program.addCommand(grokkingCommand());
program.addCommand(trajectoryCommand());
program.addCommand(hessianCommand());
program.addCommand(sharpnessCommand());
program.addCommand(pruneSaliencyCommand());
program.addCommand(reportCommand());

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`losscape: ${err.message}\n`);
  process.exit(1);
});
