import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const CONFIGS = fileURLToPath(new URL('../../../test/fixtures/configs/', import.meta.url));
export const INDEX = new URL('../../src/index.js', import.meta.url).href;

/** The environment without any RINGMASTER_ variable of the machine running the tests, nor npm's (as if started from a shell). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RINGMASTER_') && !k.startsWith('npm_')));
  return { ...env, ...extra };
}

export interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** The exit code, or null when a signal ended the process. */
  exit: Promise<number | null>;
}

/** Processes started by a test; `killAll` in afterEach ends any still running. */
export class Processes {
  readonly #runs: Run[] = [];

  /** `node <cli> <args>`, or `command` itself when given (e.g. npm). */
  launch(args: string[], env: Record<string, string> = {}, command?: { file: string; options?: SpawnOptions }): Run {
    const child = command
      ? spawn(command.file, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], ...command.options })
      : spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const run: Run = { child, stdout: '', stderr: '', exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
    child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
    this.#runs.push(run);
    return run;
  }

  /** Run the command to its end. */
  async ringmaster(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const run = this.launch(args, env);
    const code = await run.exit;
    return { code, stdout: run.stdout, stderr: run.stderr };
  }

  async killAll(): Promise<void> {
    for (const r of this.#runs.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exit;
    }
  }
}

/** Resolves with the match once stderr shows `pattern`; rejects if the process exits first. */
export function waitFor(run: Run, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = pattern.exec(run.stderr);
      if (m) {
        run.child.stderr!.off('data', check);
        resolve(m);
      }
    };
    run.child.stderr!.on('data', check);
    void run.exit.then((code) => reject(new Error(`exited (${code}) before printing ${pattern}:\n${run.stderr}`)));
    check();
  });
}

/** Whether a process of that id still exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
