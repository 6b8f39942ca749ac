/**
 * Load generation and latency statistics.
 *
 * - Saturation (closed loop): autocannon, N connections each sending its next request as soon as
 *   the previous one is answered.
 * - Fixed rate (open loop): requests scheduled at even intervals (1/rate apart) over keep-alive
 *   connections, latency measured from the *scheduled* time, so a server that falls behind is
 *   charged for the queueing it causes (no coordinated omission). autocannon's `overallRate` is
 *   not used by default: it lets each connection send its whole per-second quota back to back at
 *   the top of every second (bursts at many times the nominal rate), and its coordinated-omission
 *   correction assumes a 1 ms interval. BENCH_RATE_GENERATOR=autocannon switches to it anyway.
 *
 * Latencies are recorded per response as floats (ms) and percentiles computed exactly, rather than
 * read from autocannon's integer-millisecond histogram.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { CpuMonitor, CpuUsage } from './children';

/** How long Twilio waits for a webhook's answer. */
export const WEBHOOK_DEADLINE_MS = 15_000;

export interface LatencyStats {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  mode: 'saturation' | 'fixed-rate' | 'sequential';
  /** Requested arrival rate (fixed-rate runs). */
  offeredRate: number | null;
  connections: number | null;
  durationSeconds: number;
  sent: number;
  /** 2xx responses per second over the run. */
  throughput: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  latency: LatencyStats;
  /** Average cores used during the run by the bench, the server under test and everything else. */
  cpu: CpuUsage | null;
}

export interface PreparedRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export function stats(samples: number[]): LatencyStats {
  if (samples.length === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(samples).sort();
  // Nearest rank: the smallest sample with at least q of all samples at or below it.
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
  };
}

class Recorder {
  readonly latencies: number[] = [];
  readonly statusCodes: Record<string, number> = {};
  ok = 0;
  non2xx = 0;
  errors = 0;
  sent = 0;

  response(status: number, latencyMs: number): void {
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    if (status >= 200 && status < 300) {
      this.ok += 1;
      this.latencies.push(latencyMs);
    } else {
      this.non2xx += 1;
    }
  }

  result(
    mode: LoadResult['mode'],
    durationSeconds: number,
    offeredRate: number | null,
    connections: number | null,
    cpu: CpuUsage | null,
  ): LoadResult {
    return {
      cpu,
      mode,
      offeredRate,
      connections,
      durationSeconds,
      sent: this.sent,
      throughput: this.ok / durationSeconds,
      ok: this.ok,
      non2xx: this.non2xx,
      errors: this.errors,
      statusCodes: this.statusCodes,
      latency: stats(this.latencies),
    };
  }
}

export interface AutocannonLoad {
  baseUrl: string;
  /** The server's pid, to attribute CPU time (see CpuMonitor). */
  serverPid?: number;
  connections: number;
  durationSeconds?: number;
  amount?: number;
  /** autocannon's overallRate (bursty; see the header comment). */
  overallRate?: number;
  next: () => PreparedRequest;
}

/** Closed-loop load with autocannon; each request built (and signed) just before it is sent. */
export async function runAutocannon(load: AutocannonLoad): Promise<LoadResult> {
  const recorder = new Recorder();
  const cpu = new CpuMonitor(load.serverPid ?? null);
  const first = load.next();
  let finished!: (outcome: { error: unknown; result: autocannon.Result }) => void;
  const outcome = new Promise<{ error: unknown; result: autocannon.Result }>(
    (resolve) => (finished = resolve),
  );
  // The callback form returns the instance (the promise form does not expose its events).
  const instance = autocannon(
    {
      url: load.baseUrl + first.path,
      method: first.method ?? 'POST',
      connections: load.connections,
      // autocannon rejects options present but undefined.
      ...(load.amount ? { amount: load.amount } : { duration: load.durationSeconds ?? 10 }),
      ...(load.overallRate
        ? { overallRate: load.overallRate, ignoreCoordinatedOmission: true }
        : {}),
      timeout: WEBHOOK_DEADLINE_MS / 1000,
      requests: [
        {
          setupRequest: (request) => {
            recorder.sent += 1;
            const next = load.next();
            return {
              ...request,
              method: next.method ?? 'POST',
              path: next.path,
              headers: next.headers,
              body: next.body,
            };
          },
        },
      ],
    },
    (error, result) => finished({ error, result }),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) =>
    recorder.response(statusCode, responseTime),
  );
  const { error, result } = await outcome;
  if (error) throw error;
  recorder.errors = result.errors;
  return recorder.result(
    load.overallRate ? 'fixed-rate' : 'saturation',
    result.duration,
    load.overallRate ?? null,
    load.connections,
    cpu.stop(),
  );
}

export interface PacedLoad {
  baseUrl: string;
  serverPid?: number;
  rate: number;
  /** Either a duration or a count of requests. */
  durationSeconds?: number;
  count?: number;
  /** Builds request `index`; `scheduledAt` is its performance.now() send time. */
  next: (index: number, scheduledAt: number) => PreparedRequest;
  /** Called with each request's outcome (e.g. to record acknowledgement times). */
  onResponse?: (index: number, status: number, latencyMs: number) => void;
  maxSockets?: number;
}

/**
 * Open-loop load at an even rate. A request's latency runs from its scheduled send time to the
 * end of its response, so time spent waiting for a free socket or a late timer counts too.
 */
export async function runPaced(load: PacedLoad): Promise<LoadResult> {
  const recorder = new Recorder();
  const cpu = new CpuMonitor(load.serverPid ?? null);
  const url = new URL(load.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.maxSockets ?? 512 });
  const interval = 1000 / load.rate;
  const total = load.count ?? Math.round(load.rate * (load.durationSeconds ?? 10));
  const start = performance.now() + 5;
  let index = 0;
  let inFlight = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));

  const send = (i: number, scheduledAt: number) => {
    const request = load.next(i, scheduledAt);
    recorder.sent += 1;
    inFlight += 1;
    let settled = false;
    const done = (status: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      inFlight -= 1;
      const latency = performance.now() - scheduledAt;
      if (status === null) recorder.errors += 1;
      else recorder.response(status, latency);
      load.onResponse?.(i, status ?? 0, latency);
      if (index >= total && inFlight === 0) finished();
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method ?? 'POST',
        path: request.path,
        headers: request.body
          ? { ...request.headers, 'content-length': Buffer.byteLength(request.body) }
          : request.headers,
        agent,
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', () => done(null));
      },
    );
    // Twilio abandons a webhook 15 s after sending it, wherever the time went (here: waiting for
    // a free socket counts too), and a late answer does not count.
    const deadline = setTimeout(
      () => req.destroy(new Error('deadline')),
      Math.max(0, scheduledAt + WEBHOOK_DEADLINE_MS - performance.now()),
    );
    req.on('error', () => done(null));
    req.end(request.body);
  };

  const tick = () => {
    const now = performance.now();
    while (index < total && start + index * interval <= now) {
      send(index, start + index * interval);
      index += 1;
    }
    if (index < total) {
      setTimeout(tick, Math.max(0, start + index * interval - performance.now()));
    } else if (inFlight === 0) {
      finished();
    }
  };
  setTimeout(tick, 5);
  await allDone;
  agent.destroy();
  const elapsed = (performance.now() - start) / 1000;
  return recorder.result('fixed-rate', elapsed, load.rate, null, cpu.stop());
}

/** One request at a time: for read endpoints and closed-loop conversation tests. */
export async function timedRequest(
  baseUrl: string,
  request: PreparedRequest,
  agent: http.Agent,
): Promise<{ status: number; body: string; latencyMs: number; sentAt: number }> {
  const url = new URL(baseUrl);
  const sentAt = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: request.body
          ? { ...request.headers, 'content-length': Buffer.byteLength(request.body) }
          : request.headers,
        agent,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: performance.now() - sentAt,
            sentAt,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(request.body);
  });
}
