/**
 * The application under test: the BUILT app (`node dist/src/main.js`) as a child process, and the
 * fixtures the benchmark needs in it — organizations through the CLI, chatbots and connected
 * channels through the REST API (or, for thousands of channels, through SQL with tokens encrypted
 * by the app's own CredentialCipher), and bulk-inserted conversations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { CredentialCipher } from '../../src/modules/crypto/credential-cipher';
import { Secret } from '../../src/common/secret';
import { authTokenAad } from '../../src/modules/channels/sms-channel-tokens';
import { DELIVERY_RANK } from '../../src/common/sms';
import type { TwilioDouble } from '../../tools/twilio-double';
import { freePort, RssSampler, runCommand, ServerProcess, startServer } from './children';
import { LatencyStats, stats } from './load';
import { numberIn, Sender } from './webhooks';

export const ROOT = resolve(__dirname, '..', '..');

/**
 * One credentials key for every instance of a run: instances share one database (one after the
 * other, or at once), and an instance refuses to start beside credentials it cannot decrypt.
 */
const RUN_ENCRYPTION_KEY = randomBytes(32);

/** Channel numbers are numbered across app instances: two instances may share one database. */
let channelCount = 0;

export interface Channel extends Sender {
  chatbotId: string;
}

export interface AppOptions {
  databaseUrl: string | null;
  /** Directory of the build: `<dist>/src/main.js` and `<dist>/src/cli.js`. */
  dist: string;
  workDir: string;
  twilio: TwilioDouble;
  cpuProfileDir: string | null;
  /** Extra environment, e.g. { REPLY_WORKER_CONCURRENCY: '0' } for a web-only instance. */
  extraEnv?: NodeJS.ProcessEnv;
  /** Sub-directory of workDir for the embedded database (one per instance). */
  name?: string;
  /**
   * CREDENTIALS_ENCRYPTION_KEY; instances that share a database need the same one (the app
   * refuses to start beside credentials it cannot decrypt). A new key by default.
   */
  encryptionKey?: Buffer;
}

const KNOWLEDGE = {
  title: 'Store information',
  content:
    'We are open Monday to Friday from 9 to 18 and on Saturday from 10 to 16. We are closed on Sunday.\n\n' +
    'To reset your password, open Settings, choose Security and click "Reset password". The link works for 30 minutes.\n\n' +
    'We ship to Finland, Sweden and Estonia. Delivery takes two to four working days.\n\n' +
    'You can return any product within 30 days of delivery. After 30 days we offer store credit.\n\n' +
    'Track your order from the link in the confirmation email. Contact us if it has not arrived within a week.',
};

export class AppUnderTest {
  readonly baseUrl: string;
  readonly rss: RssSampler;
  readonly db: Pool;
  private apiKey = '';
  private organizationId = '';
  private readonly cipher: CredentialCipher;
  /** e.g. "PostgreSQL 15.20 (Debian …)"; PGlite reports the PostgreSQL version it embeds. */
  serverVersion = '';

  private constructor(
    readonly server: ServerProcess,
    readonly env: NodeJS.ProcessEnv,
    readonly databaseLabel: string,
    readonly databaseUrl: string,
    port: number,
    private readonly twilio: TwilioDouble,
    encryptionKey: Buffer,
    private readonly dist: string,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.rss = new RssSampler(server.pid);
    this.rss.start();
    this.db = new Pool({ connectionString: databaseUrl, max: 2 });
    this.cipher = new CredentialCipher({
      encryptionKeys: { current: encryptionKey, previous: [] },
    });
  }

  static async start(options: AppOptions): Promise<AppUnderTest> {
    const port = await freePort();
    const encryptionKey = options.encryptionKey ?? RUN_ENCRYPTION_KEY;
    const pgliteDataDir = join(options.workDir, `${options.name ?? 'app'}-pglite`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      PORT: String(port),
      ...(options.databaseUrl
        ? { DATABASE_URL: options.databaseUrl }
        : { PGLITE_DATA_DIR: pgliteDataDir }),
      DATA_DIR: options.workDir,
      CREDENTIALS_ENCRYPTION_KEY: encryptionKey.toString('base64'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      TWILIO_API_BASE_URL: options.twilio.url,
      TWILIO_MESSAGING_API_BASE_URL: options.twilio.url,
      LOG_LEVEL: 'warn',
      QUEUE_POLL_SECONDS: '1',
      // Limits that would otherwise throttle or skip the benchmark's own traffic: the per-key
      // rate limit, and the loop guard (the history test sends 100 messages a minute into one
      // conversation on purpose).
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      // Builds before issue 17 also limited webhooks per number (BENCH_APP_DIST / BENCH_AB of an
      // old build, e.g. bisecting); later builds ignore the variable.
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
      BOT_REPLIES_PER_MINUTE: '1000',
      ...options.extraEnv,
    };
    const nodeArgs = [
      ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
      // A/B runtime flags, e.g. BENCH_NODE_ARGS="--max-semi-space-size=8".
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ];
    const server = await startServer(
      'app',
      process.execPath,
      [...nodeArgs, join(options.dist, 'src', 'main.js')],
      env,
      /"msg":"listening"/,
    );
    let databaseUrl = options.databaseUrl;
    let label = 'PostgreSQL (DATABASE_URL)';
    if (!databaseUrl) {
      // The app serves its embedded database on a loopback port and records it beside the data
      // directory, which is how the CLI finds it too.
      const { port: dbPort } = JSON.parse(readFileSync(`${pgliteDataDir}.server.json`, 'utf8')) as {
        port: number;
      };
      databaseUrl = `postgres://postgres@127.0.0.1:${dbPort}/postgres`;
      label = `embedded PGlite (${pgliteDataDir})`;
    }
    const app = new AppUnderTest(
      server,
      env,
      label,
      databaseUrl,
      port,
      options.twilio,
      encryptionKey,
      options.dist,
    );
    const [{ version }] = (await app.db.query('SELECT version()')).rows as { version: string }[];
    app.serverVersion = version.split(' on ')[0];
    return app;
  }

  async stop(): Promise<void> {
    this.rss.stop();
    await this.db.end().catch(() => undefined);
    await this.server.stop();
  }

  /**
   * Latency of one single-row INSERT commit, one at a time: what the database (and its disk's
   * flush) costs at the least, for reading every other figure.
   */
  async commitLatency(samples = 200): Promise<LatencyStats> {
    const client = await this.db.connect();
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS bench_commit_probe (id serial PRIMARY KEY, at timestamptz DEFAULT now())',
      );
      const latencies: number[] = [];
      for (let i = 0; i < samples; i++) {
        const started = performance.now();
        await client.query('INSERT INTO bench_commit_probe DEFAULT VALUES');
        latencies.push(performance.now() - started);
      }
      await client.query('DROP TABLE bench_commit_probe');
      return stats(latencies);
    } finally {
      client.release();
    }
  }

  /** Whether an earlier run (or anything else) left organizations in this database. */
  async databaseHasData(): Promise<boolean> {
    const { rows } = await this.db.query('SELECT EXISTS (SELECT 1 FROM organizations) AS found');
    return (rows[0] as { found: boolean }).found;
  }

  /** `org:create` through the CLI, which reaches the running app's embedded server by itself. */
  async createOrganization(name: string): Promise<void> {
    const out = await runCommand(
      process.execPath,
      [join(this.dist, 'src', 'cli.js'), 'org:create', '--name', name, '--plan', 'pro'],
      this.env,
    );
    const { organizationId, apiKey } = JSON.parse(out.trim().split('\n').pop()!) as {
      organizationId: string;
      apiKey: string;
    };
    this.organizationId = organizationId;
    this.apiKey = apiKey;
  }

  get authorization(): string {
    return `Bearer ${this.apiKey}`;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        authorization: this.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async createChatbot(name: string, withKnowledge: boolean): Promise<string> {
    const { id } = await this.api<{ id: string }>('POST', '/api/chatbots', { name });
    if (withKnowledge) await this.api('POST', `/api/chatbots/${id}/knowledge`, KNOWLEDGE);
    return id;
  }

  /** A Twilio account with one number in the double, for the next channel index. */
  private newTwilioNumber(): {
    index: number;
    accountSid: string;
    authToken: string;
    phoneNumber: string;
    numberSid: string;
  } {
    const index = channelCount++;
    const { sid: accountSid, authToken } = this.twilio.addAccount();
    const phoneNumber = numberIn(444, index);
    const { sid: numberSid } = this.twilio.addNumber(accountSid, { phoneNumber });
    return { index, accountSid, authToken, phoneNumber, numberSid };
  }

  /** Chatbot + channel exactly as a customer connects one: through the REST API. */
  async connectViaApi(withKnowledge: boolean): Promise<Channel> {
    const number = this.newTwilioNumber();
    const chatbotId = await this.createChatbot(`Bench bot ${number.index}`, withKnowledge);
    await this.api('PUT', `/api/chatbots/${chatbotId}/channels/sms`, {
      accountSid: number.accountSid,
      authToken: number.authToken,
      phoneNumber: number.phoneNumber,
      configureWebhook: true,
    });
    return { ...number, chatbotId };
  }

  /** `count` channels through the API, `concurrency` at a time; returns them and the seconds taken. */
  async connectManyViaApi(
    count: number,
    concurrency: number,
    withKnowledge = false,
  ): Promise<{ channels: Channel[]; seconds: number }> {
    const started = performance.now();
    const channels: Channel[] = [];
    let remaining = count;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (remaining > 0) {
          remaining -= 1;
          channels.push(await this.connectViaApi(withKnowledge));
        }
      }),
    );
    return { channels, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Channels inserted straight into the database, for tiers where the API would take too long.
   * Each token is encrypted by the app's CredentialCipher with the associated data of its own row
   * id (copying one ciphertext to many rows would not decrypt), so the app treats these rows
   * exactly like channels connected through the API.
   */
  async insertChannelsViaSql(count: number): Promise<{ channels: Channel[]; seconds: number }> {
    const started = performance.now();
    const channels: Channel[] = [];
    const BATCH = 1_000;
    for (let offset = 0; offset < count; offset += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, count - offset) }, () => {
        const number = this.newTwilioNumber();
        const id = randomUUID();
        return {
          ...number,
          id,
          chatbotId: randomUUID(),
          encrypted: this.cipher.encrypt(new Secret(number.authToken), authTokenAad(id)),
        };
      });
      await this.db.query(
        `INSERT INTO chatbots (id, organization_id, name)
         SELECT id, $2, 'Bench bot ' || n FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
        [rows.map((row) => row.chatbotId), this.organizationId],
      );
      await this.db.query(
        `INSERT INTO sms_channels (id, organization_id, chatbot_id, account_sid, auth_token_encrypted,
                                   phone_number, phone_number_sid, account_type,
                                   webhook_configured_by_us, webhook_points_to_us, connected_at)
         SELECT id, $1, chatbot_id, account_sid, token, phone, number_sid, 'Full', false, null, now()
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS t(id, chatbot_id, account_sid, token, phone, number_sid)`,
        [
          this.organizationId,
          rows.map((row) => row.id),
          rows.map((row) => row.chatbotId),
          rows.map((row) => row.accountSid),
          rows.map((row) => row.encrypted),
          rows.map((row) => row.phoneNumber),
          rows.map((row) => row.numberSid),
        ],
      );
      channels.push(...rows);
    }
    return { channels, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * A conversation with `size` earlier messages (alternating customer and bot, one a second,
   * ending a minute ago) between `customer` and the channel's chatbot.
   */
  async insertHistory(channel: Channel, customer: string, size: number): Promise<void> {
    const [{ id }] = (
      await this.db.query(
        `INSERT INTO conversations (organization_id, chatbot_id, channel, channel_id, customer_number,
                                    status, last_message_at, last_message_preview)
         SELECT $1, $2, 'sms', c.id, $3, 'bot', now() - interval '1 minute', 'history'
         FROM sms_channels c WHERE c.chatbot_id = $2
         RETURNING id`,
        [this.organizationId, channel.chatbotId, customer],
      )
    ).rows as { id: string }[];
    await this.db.query(
      `INSERT INTO messages (conversation_id, organization_id, direction, author, body, twilio_sid,
                             delivery_status, delivery_rank, created_at, updated_at)
       SELECT $1::uuid, $2::uuid,
              CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
              CASE WHEN i % 2 = 0 THEN 'customer' ELSE 'bot' END,
              'Earlier message number ' || i,
              'SM' || md5($1::uuid::text || ':' || i),
              CASE WHEN i % 2 = 0 THEN 'received' ELSE 'delivered' END,
              CASE WHEN i % 2 = 0 THEN $4::smallint ELSE $5::smallint END,
              now() - interval '1 minute' - ($3::int - i) * interval '1 second',
              now() - interval '1 minute' - ($3::int - i) * interval '1 second'
       FROM generate_series(1, $3::int) AS i`,
      [id, this.organizationId, size, DELIVERY_RANK.received, DELIVERY_RANK.delivered],
    );
  }

  /** `count` conversations of one chatbot, one second of last activity apart. */
  async insertConversations(chatbotId: string, count: number): Promise<void> {
    const BATCH = 25_000;
    for (let offset = 0; offset < count; offset += BATCH) {
      await this.db.query(
        `INSERT INTO conversations (organization_id, chatbot_id, channel, customer_number, status,
                                    last_message_at, last_message_preview)
         SELECT $1, $2, 'sms', $5 || lpad(i::text, 7, '0'), 'bot',
                now() - i * interval '1 second', 'Message preview ' || i
         FROM generate_series($3::int, $4::int) AS i`,
        [
          this.organizationId,
          chatbotId,
          offset,
          Math.min(offset + BATCH, count) - 1,
          numberIn(777, 0).slice(0, -7),
        ],
      );
    }
  }

  /** Cancels every queued reply job (a web-only instance leaves them for workers that never come). */
  async cancelQueuedReplies(): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE pgboss.job SET state = 'cancelled', completed_on = now()
       WHERE name = 'sms-reply' AND state IN ('created', 'retry')`,
    );
    return rowCount ?? 0;
  }

  /**
   * Reply jobs not yet finished (queued, retrying or running). Counted as waiting + active, the
   * two conditions pg-boss's and the claim's partial indexes cover: a plain state filter would
   * scan every completed job, and the drain benchmark polls this with a million of them.
   */
  async pendingReplies(states = ['created', 'retry', 'active']): Promise<number> {
    const { rows } = await this.db.query(
      `SELECT (SELECT count(*) FROM pgboss.job WHERE name = 'sms-reply' AND state < 'active'
                 AND state = ANY($1::pgboss.job_state[]))
            + (SELECT count(*) FROM pgboss.job WHERE name = 'sms-reply' AND state = 'active'
                 AND 'active' = ANY($1::pgboss.job_state[])) AS count`,
      [states],
    );
    return Number((rows[0] as { count: string }).count);
  }

  private async inboundCount(): Promise<number> {
    const { rows } = await this.db.query(
      `SELECT count(*)::int AS count FROM messages WHERE direction = 'inbound'`,
    );
    return (rows[0] as { count: number }).count;
  }

  /**
   * Brings the app back to rest between two measurements, within a time budget:
   * 1. requests the load generator gave up on may still be queued inside the app: wait until no
   *    new inbound message has been stored for a second;
   * 2. let the reply workers empty the queue for up to `budgetSeconds`, counting the replies that
   *    reach the Twilio double (the app's reply throughput with no incoming load);
   * 3. cancel what is still queued, so the next run does not pay for this one's backlog.
   */
  async settle(budgetSeconds: number): Promise<Settled> {
    let previous = await this.inboundCount();
    for (let stable = 0; stable < 4;) {
      await sleep(250);
      const count = await this.inboundCount();
      stable = count === previous ? stable + 1 : 0;
      previous = count;
    }
    const queued = await this.pendingReplies();
    const repliesBefore = this.twilio.messages.length;
    const started = performance.now();
    let remaining = queued;
    while (remaining > 0 && performance.now() - started < budgetSeconds * 1000) {
      await sleep(250);
      remaining = await this.pendingReplies();
    }
    const seconds = (performance.now() - started) / 1000;
    const replies = this.twilio.messages.length - repliesBefore;
    let cancelled = 0;
    if (remaining > 0) {
      cancelled = await this.cancelQueuedReplies();
      for (let waited = 0; (await this.pendingReplies()) > 0 && waited < 60; waited++) {
        await sleep(500);
      }
    }
    return {
      queued,
      drainedSeconds: remaining === 0 ? seconds : null,
      replies,
      repliesPerSecond: queued > 0 ? replies / seconds : null,
      cancelled,
    };
  }

  /** Which of these customers' inbound messages still have a reply job queued or running. */
  async withPendingReply(customers: string[]): Promise<Set<string>> {
    if (customers.length === 0) return new Set();
    const { rows } = await this.db.query(
      `SELECT DISTINCT c.customer_number
       FROM conversations c
       JOIN messages m ON m.conversation_id = c.id AND m.direction = 'inbound'
       JOIN pgboss.job j ON j.name = 'sms-reply' AND j.data->>'messageId' = m.id::text
       WHERE c.customer_number = ANY($1::text[]) AND j.state IN ('created', 'retry', 'active')`,
      [customers],
    );
    return new Set((rows as { customer_number: string }[]).map((row) => row.customer_number));
  }
}

export interface Settled {
  /** Reply jobs queued when the load stopped. */
  queued: number;
  /** Seconds to empty the queue, or null when the budget ran out. */
  drainedSeconds: number | null;
  /** Replies that reached the Twilio double meanwhile. */
  replies: number;
  repliesPerSecond: number | null;
  /** Jobs cancelled at the end of the budget. */
  cancelled: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
