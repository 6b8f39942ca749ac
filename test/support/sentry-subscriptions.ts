/**
 * Jest setup (setupFilesAfterEnv): Node's diagnostics channels are process-wide, but each test
 * file loads its own copy of the Sentry SDK. A copy initialised by an earlier file in the same
 * worker stays subscribed to `http.server.request.start`, and two copies then re-wrap a server's
 * `emit` on every request (each sees the other's wrapper as foreign), until deep recursion
 * overflows the stack under a burst of requests. Every subscription a test file makes is
 * removed when that file ends, so each file runs with its own SDK copy only — as production
 * runs one.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

type Listener = (message: unknown, name: string | symbol) => void;
interface Registry {
  original: typeof diagnosticsChannel.subscribe;
  current: [string | symbol, Listener][];
}

const KEY = Symbol.for('sms-tests.diagnostics-subscriptions');
const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
const registry: Registry = (holder[KEY] ??= {
  original: diagnosticsChannel.subscribe,
  current: [],
});
if (diagnosticsChannel.subscribe === registry.original) {
  diagnosticsChannel.subscribe = (name: string | symbol, listener: Listener): void => {
    registry.current.push([name, listener]);
    registry.original(name, listener);
  };
}
registry.current = [];

afterAll(() => {
  for (const [name, listener] of registry.current.splice(0)) {
    diagnosticsChannel.unsubscribe(name, listener);
  }
});
