#!/usr/bin/env node
/**
 * The `orrery` command. User mistakes (bad flags, regions, files, configurations) print one line
 * `orrery: <what is wrong and what is accepted>` and exit with code 2; nothing else is caught.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../core/invariant.js';
import { ADMIN_ACTIONS, ADMIN_FLAGS, runAdminCommand } from './admin-command.js';
import { APP_FLAGS, APPS, runAppCommand } from './app-command.js';
import { BOTE_FLAGS, runBoteCommand } from './bote-command.js';
import { CALIBRATE_FLAGS, runCalibrateCommand } from './calibrate-command.js';
import { CHECK_FLAGS, runCheckCommand } from './check-command.js';
import { EXP_FLAGS, runExpCommand } from './exp-command.js';
import { PLOT_FLAGS, runPlotCommand } from './plot-command.js';
import { REGIONS_FLAGS, runRegionsCommand } from './regions-command.js';
import { RUN_FLAGS, runRunCommand } from './run-command.js';
import { runSimCommand, SIM_FLAGS } from './sim-command.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

function userError(message: string): never {
  process.stderr.write(`orrery: ${message}\n`);
  process.exit(2);
}

/** Parses `args` and runs the chosen subcommand. */
export async function main(args: string[]): Promise<void> {
  const cli = yargs(args)
    .scriptName('orrery')
    .parserConfiguration({ 'camel-case-expansion': false, 'boolean-negation': false })
    .usage('$0 <command> [options]')
    .command('sim', 'run one deterministic simulation on a planet', (y) => y.options(SIM_FLAGS), (argv) => runSimCommand(argv, print))
    .command('bote', 'closed-form fast-path latency per client region', (y) => y.options(BOTE_FLAGS), (argv) => runBoteCommand(argv, print))
    .command(
      'check',
      'random fault schedules per protocol, checked for safety and liveness; failures shrink to a replayable case',
      (y) => y.options(CHECK_FLAGS),
      (argv) => {
        process.exitCode = runCheckCommand(argv, print);
      },
    )
    .command(
      'calibrate',
      'measure each message kind and executed command of the real protocol code on this machine; writes the CPU profile for sim --cpu',
      (y) => y.options(CALIBRATE_FLAGS),
      (argv) => runCalibrateCommand(argv, print, ['orrery', ...args].join(' ')),
    )
    .command('run', 'run a protocol on real processes and sockets (one per replica)', (y) => y.options(RUN_FLAGS), (argv) => runRunCommand(argv, print))
    .command(
      'exp [experiment]',
      'run a named experiment (orrery exp --list) or a definition file; writes results/<experiment>/: JSON per point, a tidy CSV, summary tables, PNG plots and report.html',
      (y) => y.options(EXP_FLAGS),
      (argv) => runExpCommand(argv, print),
    )
    .command(
      'plot [results-dir]',
      "redraw an experiment's PNGs and report.html from its raw results (experiment.json, points/*.json) without running it",
      (y) => y.options(PLOT_FLAGS),
      (argv) => runPlotCommand(argv, print),
    )
    .command(
      'app [name]',
      `a replicated application end to end: ${APPS.join(', ')} in the simulator (the register against a rolling update), or --runtime as real processes`,
      (y) => y.positional('name', { type: 'string', describe: `the application: ${APPS.join(', ')}` }).options(APP_FLAGS),
      (argv) => runAppCommand(argv, print),
    )
    .command(
      'admin <action> [process]',
      `operate a live cluster: ${ADMIN_ACTIONS.join(', ')} ('admin remove P' removes process P from the configuration; 'admin status' prints each replica's configuration)`,
      (y) =>
        y
          .positional('action', { type: 'string', describe: `what to do: ${ADMIN_ACTIONS.join(', ')}` })
          .positional('process', { type: 'string', describe: 'remove: the process id to remove' })
          .options(ADMIN_FLAGS),
      (argv) => runAdminCommand(argv, print),
    )
    .command('regions', "list a planet's regions (and RTTs from one)", (y) => y.options(REGIONS_FLAGS), (argv) => runRegionsCommand(argv, print))
    .demandCommand(1, 'name a command: sim, check, calibrate, run, exp, plot, app, bote or regions')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message, error) => {
      if (error !== undefined && error !== null && !(error instanceof UsageError)) throw error;
      const text = error?.message ?? message;
      const command = args.find((a) => !a.startsWith('-')) ?? '';
      userError(/^Unknown arguments?:/.test(text) ? `${text}; see 'orrery ${command} --help' for the accepted options` : text);
    });
  try {
    await cli.parseAsync();
  } catch (error) {
    if (error instanceof UsageError) userError(error.message);
    throw error;
  }
}

await main(hideBin(process.argv));
