#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, formatProblem } from '../config/index.js';
import { configCommand, help, validateCommand, type Io } from './config-commands.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';
import { deadLettersCommand } from './dead-letters.js';
import { alertsCommand } from './alerts.js';
import { EXIT_FAILURE, EXIT_USAGE, HELP, parse, UsageError } from './usage.js';

// A line that cannot be written (the terminal closed: SIGHUP; a reader that quit: `| head`) is dropped
// rather than thrown, so that it cannot cut a graceful stop short.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The compiled benchmark runner, relative to this file in the build (dist/src/cli → dist/bench). */
const BENCH_RUNNER = fileURLToPath(new URL('../../bench/run-all.js', import.meta.url));

async function benchCommand(args: string[]): Promise<number> {
  const { values } = parse('bench', args, { help: { type: 'boolean', short: 'h' } }, 0);
  if (values.help) return help('bench', io);
  if (!existsSync(BENCH_RUNNER)) {
    io.err(`ringmaster bench: ${BENCH_RUNNER} not found; the benchmarks are in a source checkout (npm run build), not in the installed package`);
    return EXIT_FAILURE;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BENCH_RUNNER], { stdio: 'inherit' });
    child.on('error', (err) => {
      io.err(`ringmaster bench: ${err.message}`);
      resolve(EXIT_FAILURE);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? EXIT_FAILURE : 0)));
  });
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  start: (args) => startCommand(args, io),
  validate: (args) => validateCommand(args, io),
  config: (args) => configCommand(args, io),
  status: (args) => statusCommand(args, io),
  'dead-letters': (args) => deadLettersCommand(args, io),
  alerts: (args) => alertsCommand(args, io),
  bench: benchCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    io.out(topic && HELP[topic] ? HELP[topic] : HELP.main!);
    return command === undefined ? EXIT_USAGE : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    const what = command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`;
    throw new UsageError('', `${what} (commands: ${Object.keys(COMMANDS).join(', ')})`);
  }
  return run(rest);
}

function report(err: unknown): number {
  if (err instanceof UsageError) {
    const who = err.command ? `ringmaster ${err.command}` : 'ringmaster';
    io.err(`${who}: ${err.message}\nRun '${who} --help' for usage.`);
    return EXIT_USAGE;
  }
  if (err instanceof ConfigError) {
    if (err.unreadable) {
      io.err(`ringmaster: ${err.problems.map((p) => p.message).join('; ')}`);
      return EXIT_USAGE;
    }
    io.err(`${err.file}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}:`);
    for (const p of err.problems) io.err(`  ${formatProblem(p)}`);
    return EXIT_FAILURE;
  }
  io.err(`ringmaster: ${(err as Error)?.message ?? String(err)}`);
  return EXIT_FAILURE;
}

// Exit explicitly: a stopped system may leave timers or handles that would otherwise hold the process.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(report(err)),
);
