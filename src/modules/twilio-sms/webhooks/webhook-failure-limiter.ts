import { Inject, Injectable } from '@nestjs/common';
import { FailureLimiter } from '../../../common/rate-limit/failure-limiter';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';

/**
 * Webhook requests that failed verification, per client address (WEBHOOK_FAILURES_PER_MINUTE).
 * One instance for the module: the guard and the controller's second verification share it.
 */
@Injectable()
export class WebhookFailureLimiter extends FailureLimiter {
  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'webhookFailuresPerMinute'>) {
    super(config.webhookFailuresPerMinute);
  }
}
