/**
 * Child processes of the benchmark (the app, the comparison servers, CLI calls). Every child is
 * registered so that a crash, Ctrl-C or a normal exit of the benchmark never leaves one running.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createServer, type AddressInfo } from 'node:net';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL is the only thing left to do there.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines the process wrote, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running server and resolves once a stdout line matches `ready` (each server
 * prints one when it listens). Rejects with the process's output if it exits or times out first.
 */
export async function startServer(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<ServerProcess> {
  installExitHooks();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    tail.push(chunk.toString('utf8'));
    if (tail.length > 50) tail.shift();
  };
  child.stderr!.on('data', remember);
  let exited = false;
  let onEarlyExit: ((code: number | null) => void) | null = null;
  child.on('exit', (code) => {
    exited = true;
    live.delete(child);
    onEarlyExit?.(code);
  });
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const finish = (error?: Error) => {
      clearTimeout(timer);
      onEarlyExit = null;
      child.stdout!.off('data', onData);
      // Keep draining stdout so a chatty child never blocks on a full pipe.
      child.stdout!.on('data', remember);
      if (!error) return resolve();
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(
      () => finish(new Error(`${name} not ready after ${timeoutMs} ms:\n${tail.join('')}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      remember(chunk);
      buffered += chunk.toString('utf8');
      if (ready.test(buffered)) finish();
    };
    onEarlyExit = (code) =>
      finish(new Error(`${name} exited (code ${code}) before it was ready:\n${tail.join('')}`));
    child.stdout!.on('data', onData);
  });
  return {
    name,
    child,
    pid: child.pid!,
    output: () => tail.join(''),
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      // The app's own hard deadline is 9 s; do not wait longer than that plus a margin.
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion and returns its stdout; rejects with stderr on failure. */
export function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<string> {
  installExitHooks();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}): ${stderr}`));
    });
  });
}

/**
 * Samples a process's memory every `intervalMs` from /proc (Linux). VmHWM is the kernel's own
 * peak of the resident set, so a spike between two samples is not missed.
 */
export class RssSampler {
  private timer: NodeJS.Timeout | null = null;
  private peakKb = 0;
  private lastKb = 0;
  readonly supported: boolean;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 200,
  ) {
    this.supported = this.read() !== null;
  }

  start(): void {
    if (!this.supported) return;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Peak resident set in MB so far, or null where /proc is unavailable. */
  get peakMb(): number | null {
    return this.supported ? this.peakKb / 1024 : null;
  }

  get currentMb(): number | null {
    return this.supported ? this.lastKb / 1024 : null;
  }

  private sample(): void {
    const values = this.read();
    if (!values) return;
    this.lastKb = values.rssKb;
    this.peakKb = Math.max(this.peakKb, values.rssKb, values.hwmKb);
  }

  private read(): { rssKb: number; hwmKb: number } | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name: string) =>
        Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
    } catch {
      return null;
    }
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

function busyCpuSeconds(): number | null {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks.map(Number);
    void idle;
    void iowait;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

export interface CpuUsage {
  /** Average cores used by the benchmark itself (load generator, Twilio double). */
  bench: number;
  /** Average cores used by the server under test (with PGlite inside, when embedded). */
  server: number;
  /** Average cores used by PostgreSQL server processes (DATABASE_URL). */
  database: number;
  /** Average cores used by everything else on the machine: interference. */
  other: number;
}

/**
 * Who used the CPU during a run. On a shared machine, `other` says whether a figure was taken
 * while something else competed for the cores.
 */
export class CpuMonitor {
  private readonly started = performance.now();
  private readonly busy = busyCpuSeconds();
  private readonly bench = processCpuSeconds(process.pid);
  private readonly server: number | null;
  private readonly postgres: Map<number, number>;

  constructor(private readonly serverPid: number | null) {
    this.server = serverPid ? processCpuSeconds(serverPid) : null;
    this.postgres = new Map(
      postgresPids().map((pid) => [pid, processCpuSeconds(pid) ?? 0] as [number, number]),
    );
  }

  stop(): CpuUsage | null {
    const seconds = (performance.now() - this.started) / 1000;
    const busy = busyCpuSeconds();
    const bench = processCpuSeconds(process.pid);
    if (this.busy === null || busy === null || this.bench === null || bench === null) return null;
    const server =
      this.serverPid && this.server !== null
        ? (processCpuSeconds(this.serverPid) ?? this.server) - this.server
        : 0;
    let postgres = 0;
    for (const pid of postgresPids()) {
      // A backend forked during the run (a new pool connection) counts from zero.
      const after = processCpuSeconds(pid);
      if (after !== null) postgres += after - (this.postgres.get(pid) ?? 0);
    }
    const benchUsed = bench - this.bench;
    return {
      bench: benchUsed / seconds,
      server: server / seconds,
      database: postgres / seconds,
      other: Math.max(0, busy - this.busy - benchUsed - server - postgres) / seconds,
    };
  }
}
