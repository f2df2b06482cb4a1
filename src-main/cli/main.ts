import { Command, InvalidArgumentError } from 'commander';
import { registerDataCommands } from './dataCommands.ts';
import { registerModelCommands } from './modelCommands.ts';
import { registerRerankCommand } from './rerankCommand.ts';
import { registerAppCommands } from './appCommands.ts';
import { registerBenchCommand } from './benchCommand.ts';
import { registerCompareCommand } from './compareCommand.ts';
import { registerMaintenanceCommands } from './maintenanceCommands.ts';
import { registerSimulateCommand } from './simulateCommand.ts';
import { registerPriorCheckCommand } from './priorCheckCommand.ts';

export function parseIntOption(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A finite decimal number (e.g. --min -2.5). */
export function parseNumberOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('episteme')
    .description('Bayesian active learning for labelling medical images, offline.')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerDataCommands(program);
  registerModelCommands(program);
  registerRerankCommand(program);
  registerMaintenanceCommands(program);
  registerBenchCommand(program);
  registerCompareCommand(program);
  registerSimulateCommand(program);
  registerPriorCheckCommand(program);
  registerAppCommands(program);
  return program;
}

/** Prints an error for the user (no stack trace for expected failures) and sets the exit code. */
export function reportError(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`episteme: ${message}\n`);
  if (process.env.EPISTEME_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}

