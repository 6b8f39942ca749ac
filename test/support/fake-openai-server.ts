/**
 * An OpenAI-compatible chat completions server on a loopback port, for testing the `openai`
 * agent provider over real HTTP. It records every request and answers as told: a completion,
 * an HTTP error (with headers such as Retry-After), an empty choices list, or after a delay (or
 * never, or with a body that never ends, to exercise timeouts). It counts the requests it holds
 * at once, so a test can see how many model calls the app had in flight.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** Date.now() when the request arrived. */
  receivedAt: number;
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
    [key: string]: unknown;
  };
}

export type Behaviour =
  | { kind: 'answer'; content: string | null; delayMs?: number }
  | { kind: 'error'; status: number; message?: string; headers?: Record<string, string> }
  | { kind: 'no-choices' }
  /** Accepts the request and never answers (until the server closes). */
  | { kind: 'hang' }
  /** Answers `content`, but only when the test calls release(). */
  | { kind: 'hold'; content: string }
  /** Sends 200 and the start of the body, then nothing more. */
  | { kind: 'stall-body' };

export interface FakeOpenAiServer {
  /** Origin, e.g. http://127.0.0.1:12345 (the API lives under /v1). */
  url: string;
  requests: RecordedRequest[];
  /** Requests received and not yet answered, now and at most so far (see resetStats). */
  inFlight(): number;
  maxInFlight(): number;
  resetStats(): void;
  /** How every following request is answered. */
  behave(behaviour: Behaviour): void;
  /** How the next request is answered (before behave()'s); several calls queue up. */
  behaveOnce(behaviour: Behaviour): void;
  /** Answers the `count` oldest held requests (all when omitted); resolves to how many. */
  release(count?: number): number;
  /** The requests still held, oldest first. */
  held(): RecordedRequest[];
  close(): Promise<void>;
}

function completion(model: string, content: string | null) {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeOpenAiServer(): Promise<FakeOpenAiServer> {
  const requests: RecordedRequest[] = [];
  let behaviour: Behaviour = { kind: 'answer', content: 'Hello from the fake model.' };
  const timers = new Set<NodeJS.Timeout>();
  const once: Behaviour[] = [];
  const holding: { request: RecordedRequest; answer: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      if (req.method !== 'POST' || path !== '/v1/chat/completions') {
        send(res, 404, { error: { message: 'Not found', type: 'invalid_request_error' } });
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'];
      const recorded: RecordedRequest = {
        receivedAt: Date.now(),
        method: req.method,
        path,
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let counted = true;
      const settled = () => {
        if (counted) inFlight -= 1;
        counted = false;
      };
      res.once('finish', settled);
      res.once('close', settled);
      const current = once.shift() ?? behaviour;
      switch (current.kind) {
        case 'hold':
          holding.push({
            request: recorded,
            answer: () => {
              if (!res.destroyed) send(res, 200, completion(body.model, current.content));
            },
          });
          return;
        case 'answer': {
          const respond = () => send(res, 200, completion(body.model, current.content));
          if (!current.delayMs) return respond();
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!res.destroyed) respond();
          }, current.delayMs);
          timers.add(timer);
          return;
        }
        case 'error':
          return send(
            res,
            current.status,
            {
              error: {
                message: current.message ?? `Fake error ${current.status}`,
                type: current.status >= 500 ? 'server_error' : 'invalid_request_error',
                param: null,
                code: null,
              },
            },
            current.headers,
          );
        case 'no-choices':
          return send(res, 200, { ...completion(body.model, null), choices: [] });
        case 'hang':
          return;
        case 'stall-body':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"id": "chatcmpl-fake", "choices": [');
          return;
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    resetStats() {
      requests.length = 0;
      maxInFlight = inFlight;
    },
    behave(next) {
      behaviour = next;
    },
    behaveOnce(next) {
      once.push(next);
    },
    release(count = holding.length) {
      const released = holding.splice(0, count);
      for (const { answer } of released) answer();
      return released.length;
    },
    held: () => holding.map(({ request }) => request),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
