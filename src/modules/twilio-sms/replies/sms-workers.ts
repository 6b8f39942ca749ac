import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { MetricsService } from '../../../common/metrics/metrics.service';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { JobQueue } from '../../../queue/job-queue';
import { QUEUES } from '../../../queue/queue-names';
import { AgentError, AgentService } from '../../agent';
import { TwilioApiError } from '../api/twilio-api.error';
import { SmsDeliveryService } from '../delivery/sms-delivery.service';
import { SmsErrorReporter } from '../sms-error-reporter';
import { SendSmsReplyUseCase } from './send-sms-reply.use-case';

/**
 * Twilio's and the model's failures are reported where they are handled (the delivery and the
 * reply job record them on the last try); anything else a job throws is unexpected. By type: an
 * error only named like one is not one.
 */
export const reportedWhereHandled = (error: unknown): boolean =>
  error instanceof TwilioApiError || error instanceof AgentError;

/**
 * Declares the two durable queues (bot replies, human agents' replies) and runs their jobs in
 * this process: up to AGENT_MAX_CONCURRENCY of each at once (a model call is I/O, so many wait
 * side by side), claimed fairly between organizations. Unexpected errors are reported and
 * rethrown so pg-boss retries the job.
 */
@Injectable()
export class SmsWorkers implements OnApplicationBootstrap {
  constructor(
    private readonly queue: JobQueue,
    private readonly replies: SendSmsReplyUseCase,
    private readonly agent: AgentService,
    private readonly delivery: SmsDeliveryService,
    private readonly reporter: SmsErrorReporter,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const retry = {
      retryLimit: this.config.replyRetryLimit,
      retryDelaySeconds: this.config.replyRetryDelaySeconds,
      expireInSeconds: this.config.replyJobExpireSeconds,
    };
    await this.queue.define({ name: QUEUES.smsReply, ...retry });
    await this.queue.define({ name: QUEUES.smsSend, ...retry });
    const work = {
      fetchers: this.config.replyWorkerConcurrency,
      maxInFlight: this.config.agentMaxConcurrency,
      maxInFlightPerOrganization: this.config.agentMaxConcurrencyPerOrganization,
    };
    // While the model API asked us to wait (429 Retry-After, an outage), reply jobs stay queued
    // rather than fail one after another and use up their retries.
    const replies = { ...work, pausedUntil: () => this.agent.pausedUntil() };
    await this.queue.work<{ messageId: string }>(QUEUES.smsReply, replies, (data, job) =>
      this.guard(data.messageId, () =>
        this.metrics.countReply(job, this.replies.execute(data.messageId, job)),
      ),
    );
    await this.queue.work<{ messageId: string }>(QUEUES.smsSend, work, (data, job) =>
      this.guard(data.messageId, () => this.delivery.deliver(data.messageId, job)),
    );
  }

  private async guard(messageId: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      if (!reportedWhereHandled(error)) this.reporter.capture(error, { messageId });
      throw error;
    }
  }
}
