/**
 * A child process whose stdout is JSON log lines (the app, or `npm run cluster`), started from the
 * repository root with `node --import tsx <script>`. Lines are kept for the test to read; every child
 * still running when the test process exits is killed, so a failed test leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface LogEntry {
  msg?: string;
  [key: string]: unknown;
}

export interface LoggedProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far, raw. */
  readonly lines: string[];
  /** Every stderr line so far, raw (shown when a wait fails). */
  readonly errors: string[];
  /** Resolves with the first JSON line (past or future) that `match` accepts; rejects if the process exits first or after `timeoutMs`. */
  waitForEntry(match: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  /** Resolves when the process has exited, with its code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function parse(line: string): LogEntry | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as LogEntry) : null;
  } catch {
    return null;
  }
}

export function startLoggedProcess(script: string, env: Record<string, string>, args: string[] = []): LoggedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  const errors: string[] = [];
  const watchers = new Set<(entry: LogEntry) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const entry = parse(line);
    if (entry) for (const watch of [...watchers]) watch(entry);
  });
  createInterface({ input: child.stderr }).on('line', (line) => errors.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  return {
    child,
    lines,
    errors,
    exited,
    waitForEntry: (match, timeoutMs = 30_000) => {
      for (const line of lines) {
        const entry = parse(line);
        if (entry && match(entry)) return Promise.resolve(entry);
      }
      return new Promise<LogEntry>((resolve, reject) => {
        const fail = (why: string): void => {
          cleanup();
          reject(
            new Error(
              `${why} (${script})\nstdout tail:\n${lines.slice(-10).join('\n')}\nstderr tail:\n${errors.slice(-10).join('\n')}`,
            ),
          );
        };
        const timer = setTimeout(() => fail(`no matching log line within ${timeoutMs} ms`), timeoutMs);
        const watch = (entry: LogEntry): void => {
          if (!match(entry)) return;
          cleanup();
          resolve(entry);
        };
        const onExit = (): void => fail('process exited before the expected log line');
        const cleanup = (): void => {
          clearTimeout(timer);
          watchers.delete(watch);
          child.off('exit', onExit);
        };
        watchers.add(watch);
        child.once('exit', onExit);
      });
    },
  };
}

/** Sends `signal` and resolves with the exit, or kills the process and rejects after `timeoutMs`. */
export async function stopProcess(
  process: LoggedProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return process.exited;
  process.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      process.child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms of ${signal}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([process.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
