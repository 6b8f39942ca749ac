/**
 * Every Prometheus metric of the process, in one registry per application (two apps in one
 * process, as in the tests, never share counters), and the methods the code calls where things
 * happen. Label values come from closed sets only: never a phone number, a SID, a token, an
 * organization or chatbot id, or text someone sent.
 */
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { JobInfo, JobQueue, QueueBacklog } from '../../queue/job-queue';

export type WebhookKind = 'inbound' | 'status';

export type WebhookRefusal =
  'unsigned' | 'no_channel' | 'signature_mismatch' | 'rate_limited' | 'credentials_unreadable';

/** ReplyOutcome of the reply job, plus what a failed run leads to. */
export type ReplyMetricOutcome =
  | 'sent'
  | 'skipped-not-bot'
  | 'skipped-opted-out'
  | 'skipped-loop-guard'
  | 'skipped-no-channel'
  | 'missing'
  | 'retry'
  | 'error';

/** Twilio's MessageStatus values; anything else is counted as `other`. */
const DELIVERY_STATUSES = new Set([
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'canceled',
]);

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A scrape every few seconds reads the queues once per this long at most. */
const BACKLOG_CACHE_MS = 5_000;

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Webhook → Messages.create accepted: tens of ms when all is well, minutes while retrying. */
const REPLY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900];
const CALL_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40];

const snake = (value: string) => value.replaceAll('-', '_');

@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route pattern (never the raw path), method and status; /metrics itself is not counted',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly webhooksAccepted = new Counter({
    name: 'sms_webhooks_accepted_total',
    help: 'Twilio webhooks answered 200 (inbound: stored, or a duplicate MessageSid; status: a callback for a message we sent)',
    labelNames: ['webhook'],
    registers: [this.registry],
  });

  private readonly webhooksRefused = new Counter({
    name: 'sms_webhooks_refused_total',
    help: 'Twilio webhooks refused before anything was stored, by reason',
    labelNames: ['webhook', 'reason'],
    registers: [this.registry],
  });

  private readonly replies = new Counter({
    name: 'sms_replies_total',
    help: 'Runs of the bot reply job by outcome (sent: handed to Twilio; retry: failed, will run again; error: failed for good)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  private readonly replyLatency = new Histogram({
    name: 'sms_reply_latency_seconds',
    help: "From the inbound webhook's arrival to Twilio accepting the bot's reply (Messages.create)",
    buckets: REPLY_BUCKETS,
    registers: [this.registry],
  });

  private readonly twilioCalls = new Histogram({
    name: 'twilio_api_request_duration_seconds',
    help: "Calls to Twilio's REST API by endpoint and HTTP status (`error`: no answer: timeout, reset, refused)",
    labelNames: ['endpoint', 'status'],
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });

  private readonly modelCalls = new Histogram({
    name: 'agent_model_call_duration_seconds',
    help: "The agent provider's answers by provider and outcome (ok, transient_error, error)",
    labelNames: ['provider', 'outcome'],
    buckets: CALL_BUCKETS,
    registers: [this.registry],
  });

  private readonly deliveryStatuses = new Counter({
    name: 'sms_delivery_status_callbacks_total',
    help: "Twilio's status callbacks accepted, by MessageStatus",
    labelNames: ['status'],
    registers: [this.registry],
  });

  private backlog: { at: number; value: Promise<QueueBacklog[]> } | null = null;

  constructor(private readonly queue: JobQueue) {
    collectDefaultMetrics({ register: this.registry });
    const backlog = () => this.queueBacklog();
    new Gauge({
      name: 'job_queue_waiting_jobs',
      help: 'Jobs waiting to run (new, or failed and due for a retry), per queue',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await backlog()) this.set({ queue: row.queue }, row.waiting);
      },
    });
    new Gauge({
      name: 'job_queue_oldest_waiting_job_age_seconds',
      help: 'Age of the oldest waiting job per queue, since it was first queued (0: none waiting)',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await backlog()) this.set({ queue: row.queue }, row.oldestWaitingSeconds);
      },
    });
  }

  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe(
      {
        method: METHODS.has(method) ? method : 'other',
        route,
        status_code: String(statusCode),
      },
      seconds,
    );
  }

  webhookAccepted(webhook: WebhookKind): void {
    this.webhooksAccepted.inc({ webhook });
  }

  webhookRefused(webhook: WebhookKind, reason: WebhookRefusal): void {
    this.webhooksRefused.inc({ webhook, reason });
  }

  /** A status callback accepted: counted as a webhook and by its status. */
  statusCallback(status: unknown): void {
    this.webhookAccepted('status');
    const value = String(status ?? '').toLowerCase();
    this.deliveryStatuses.inc({ status: DELIVERY_STATUSES.has(value) ? value : 'other' });
  }

  /** Counts the reply job's outcome; a failure is counted by whether the job will run again. */
  async countReply(job: JobInfo, run: Promise<ReplyMetricOutcome>): Promise<void> {
    try {
      this.replies.inc({ outcome: snake(await run) });
    } catch (error) {
      this.replies.inc({ outcome: job.retryCount < job.retryLimit ? 'retry' : 'error' });
      throw error;
    }
  }

  /** Twilio accepted a message sent by a job; a bot reply's job knows when its webhook arrived. */
  messageAccepted(job: JobInfo): void {
    if (typeof job.receivedAt === 'number') {
      this.replyLatency.observe(Math.max(0, Date.now() - job.receivedAt) / 1_000);
    }
  }

  twilioCall(endpoint: string, status: number | 'error', seconds: number): void {
    this.twilioCalls.observe({ endpoint, status: String(status) }, seconds);
  }

  /** Times one provider call, by whether it answered, failed for now, or failed for good. */
  async modelCall<T>(provider: string, call: () => Promise<T>): Promise<T> {
    const end = this.modelCalls.startTimer({ provider });
    try {
      const answer = await call();
      end({ outcome: 'ok' });
      return answer;
    } catch (error) {
      end({ outcome: (error as { transient?: boolean }).transient ? 'transient_error' : 'error' });
      throw error;
    }
  }

  private queueBacklog(): Promise<QueueBacklog[]> {
    if (!this.backlog || Date.now() - this.backlog.at > BACKLOG_CACHE_MS) {
      // A database that does not answer leaves the queue gauges out of this scrape, not the rest.
      this.backlog = { at: Date.now(), value: this.queue.backlog().catch(() => []) };
    }
    return this.backlog.value;
  }
}
