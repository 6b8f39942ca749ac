/**
 * The sweep: every connected channel is checked again at least once per
 * CHANNEL_HEALTH_SWEEP_MINUTES, whether anyone reads its status or not, so a channel that broke
 * (token rotated, number re-pointed or released) is reported before its customers notice. A
 * pg-boss schedule makes one run a minute across all instances; each run takes the
 * ceil(channels / CHANNEL_HEALTH_SWEEP_MINUTES) longest-unchecked channels and starts their checks
 * evenly over RUN_WINDOW_MS, so Twilio sees a flat rate (10,000 channels over an hour: 167
 * checks a minute, one every 270 ms, two Twilio calls each), never a burst.
 */
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { JobQueue } from '../../queue/job-queue';
import { QUEUES } from '../../queue/queue-names';
import { ChannelHealthService, HEALTH_CHECK_INTERVAL_MS } from './channel-health.service';
import { SmsChannelStore } from './sms-channel.store';

const EVERY_MINUTE = '* * * * *';
/** A run's checks start within this much of the minute, leaving room for the last to finish. */
export const RUN_WINDOW_MS = 45_000;

@Injectable()
export class ChannelHealthSweep implements OnApplicationBootstrap {
  private readonly logger = new Logger(ChannelHealthSweep.name);

  constructor(
    private readonly store: SmsChannelStore,
    private readonly health: ChannelHealthService,
    private readonly queue: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.channelHealthSweepMinutes === 0) {
      await this.queue.unschedule(QUEUES.channelHealthSweep);
      return;
    }
    await this.queue.define({
      name: QUEUES.channelHealthSweep,
      retryLimit: 0,
      retryDelaySeconds: 0,
      // The window, then the slowest check's two Twilio calls.
      expireInSeconds: Math.ceil((RUN_WINDOW_MS + 2 * this.config.twilioTimeoutMs) / 1000) + 10,
    });
    await this.queue.schedule(QUEUES.channelHealthSweep, EVERY_MINUTE);
    if (this.config.replyWorkerConcurrency > 0) {
      await this.queue.work(
        QUEUES.channelHealthSweep,
        { fetchers: 1, maxInFlight: 1, maxInFlightPerOrganization: 1 },
        () => this.run().then(() => undefined),
      );
    }
  }

  /** One run: answers how many channels it checked. */
  async run(windowMs = RUN_WINDOW_MS): Promise<number> {
    const total = await this.store.count();
    const batch = Math.ceil(total / Math.max(this.config.channelHealthSweepMinutes, 1));
    const ids = await this.store.oldestChecked(batch, HEALTH_CHECK_INTERVAL_MS);
    if (ids.length === 0) return 0;
    const spacingMs = windowMs / ids.length;
    const started = Date.now();
    const checks: Promise<boolean>[] = [];
    for (const [i, id] of ids.entries()) {
      const wait = started + i * spacingMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      checks.push(this.checkOne(id));
    }
    const checked = (await Promise.all(checks)).filter(Boolean).length;
    this.logger.log({ checked, total }, 'channel health sweep');
    return checked;
  }

  private async checkOne(channelId: string): Promise<boolean> {
    try {
      // Claimed like a status call's check: a channel is asked about once a minute at most.
      if (!(await this.store.claimHealthCheck(channelId, HEALTH_CHECK_INTERVAL_MS))) return false;
      const channel = await this.store.findById(channelId);
      if (!channel) return false;
      await this.health.check(channel);
      return true;
    } catch (error) {
      this.logger.warn({ err: error, channelId }, 'channel health check failed');
      return false;
    }
  }
}
