/**
 * A local OpenAI-compatible chat completions server for the benchmark: every completion answers
 * after a fixed latency (a hosted model's one to several seconds), so the app's real `openai`
 * provider path (the SDK, the gate, the reply pool) is measured against the model's own time.
 * It counts the calls it holds at once and who made them (by API key: one per app instance).
 */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelServer {
  /** Base URL for OPENAI_BASE_URL (…/v1). */
  baseUrl: string;
  latencyMs: number;
  inFlight: number;
  maxInFlight: number;
  /** Completed calls per Authorization header. */
  callsByKey: Map<string, number>;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startModelServer(latencyMs: number): Promise<ModelServer> {
  const timers = new Set<NodeJS.Timeout>();
  const model: ModelServer = {
    baseUrl: '',
    latencyMs,
    inFlight: 0,
    maxInFlight: 0,
    callsByKey: new Map(),
    resetStats() {
      model.maxInFlight = model.inFlight;
      model.callsByKey.clear();
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      model.inFlight += 1;
      model.maxInFlight = Math.max(model.maxInFlight, model.inFlight);
      const key = req.headers.authorization ?? '';
      const timer = setTimeout(() => {
        timers.delete(timer);
        model.inFlight -= 1;
        model.callsByKey.set(key, (model.callsByKey.get(key) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-bench',
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: 'bench-model',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: 'We are open 9 to 18 on weekdays.' },
                finish_reason: 'stop',
              },
            ],
          }),
        );
      }, latencyMs);
      timers.add(timer);
    });
  });
  // Hundreds of calls at once, as a hosted API accepts them.
  server.maxConnections = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  model.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return model;
}
