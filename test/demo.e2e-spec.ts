/**
 * `npm run demo` as a real process (tools/demo.ts through ts-node, as `npm run demo` runs it): it
 * prints the customer's message, the reply as the Twilio emulator received it, the
 * delivery status and the inbox, keeps serving Swagger, and Ctrl-C stops it cleanly.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, REPO_ROOT, waitFor } from './support/app-process';

const run = promisify(execFile);

const runDemo = (env: NodeJS.ProcessEnv, args: string[] = []) =>
  spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'tools/demo.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('npm run demo', () => {
  it('refuses to run in production', async () => {
    const child = runDemo({ NODE_ENV: 'production', PORT: String(await freePort()) });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise((done) => child.once('exit', done));
    expect(code).toBe(1);
    expect(stderr).toContain('NODE_ENV is production: the demo only runs in development');
  }, 60_000);

  it('tells the whole story, keeps Swagger open, and exits 0 on Ctrl-C', async () => {
    const port = await freePort();
    const child = runDemo({
      NODE_ENV: 'development',
      PORT: String(port),
      // The demo ignores these: it always runs on a throwaway embedded database.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
      PGLITE_DATA_DIR: '/nonexistent/pglite',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<{ code: number | null; at: number }>((done) =>
      child.once('exit', (code) => done({ code, at: Date.now() })),
    );
    try {
      await waitFor('"Press Ctrl-C to stop."', () => output.includes('Press Ctrl-C'), 90_000);
      expect(output).toContain(
        'Customer +358501234567 texts +358401234567: "Hi! When are you open on Saturday?"',
      );
      expect(output).toMatch(
        /Twilio received {3}Messages\.create from \+358401234567 to \+358501234567 \(SM[0-9a-f]{32}, 1 segment\(s\)\):\n {18}"[^"]*Saturday from 10 to 14[^"]*"/,
      );
      expect(output).toContain('Delivery status   delivered');
      expect(output).toMatch(/outbound bot +We are open[^\n]*\[delivered\]/);
      expect(output).toMatch(/inbound customer +Hi! When are you open on Saturday\?/);

      // Still running: Swagger and the API answer with the printed key.
      const apiKey = /Demo API key +(sk_\S+)/.exec(output)![1];
      const docs = await fetch(`http://127.0.0.1:${port}/api/docs`);
      expect(docs.status).toBe(200);
      const chatbots = await fetch(`http://127.0.0.1:${port}/api/chatbots`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(chatbots.status).toBe(200);
      const list = ((await chatbots.json()) as { items: { id: string }[] }).items;

      // The printed sms:simulate command texts the number again, signed as Twilio would.
      const simulate = /npm run sms:simulate -- (.*) --body "([^"]*)"/.exec(output)!;
      const { stdout } = await run(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          'src/sms-simulate.ts',
          ...simulate[1].split(' '),
          '--body',
          simulate[2],
        ],
        { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      expect(stdout).toMatch(/HTTP 200 .*<Response\/>/);
      const headers = { authorization: `Bearer ${apiKey}` };
      const page = await fetch(
        `http://127.0.0.1:${port}/api/chatbots/${list[0].id}/conversations`,
        { headers },
      ).then((res) => res.json() as Promise<{ items: { id: string }[] }>);
      const conversation = await fetch(
        `http://127.0.0.1:${port}/api/conversations/${page.items[0].id}`,
        { headers },
      ).then((res) => res.json() as Promise<{ messages: { body: string }[] }>);
      expect(conversation.messages.map((m) => m.body)).toContain(simulate[2]);

      const interruptedAt = Date.now();
      child.kill('SIGINT');
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - interruptedAt).toBeLessThan(5_000);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it('--messaging-service: the number is in a Messaging Service, which connect points at the app; the reply goes through it', async () => {
    const port = await freePort();
    const child = runDemo({ NODE_ENV: 'development', PORT: String(port) }, ['--messaging-service']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    try {
      await waitFor('"Press Ctrl-C to stop."', () => output.includes('Press Ctrl-C'), 90_000);
      expect(output).toMatch(
        new RegExp(
          `Messaging Service (MG[0-9a-f]{32}) \\("Demo 10DLC service"\\) holds the number; its inbound URL \\(Twilio reads the service's\\) is http://127\\.0\\.0\\.1:${port}/api/webhooks/twilio/sms`,
        ),
      );
      const sid = /Messaging Service (MG[0-9a-f]{32})/.exec(output)![1];
      expect(output).toContain(`through Messaging Service ${sid}`);
      expect(output).toContain('Delivery status   delivered');
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
