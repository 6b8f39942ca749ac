import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Errors } from '../errors/errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics with METRICS_TOKEN set: `Authorization: Bearer <METRICS_TOKEN>` or 401. Compared
 * in constant time (as digests, so a wrong length answers as fast as a wrong byte). Unset: open,
 * for a scraper inside the private network.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'metricsToken'>) {
    this.expected = config.metricsToken ? digest(config.metricsToken.reveal()) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (presented && timingSafeEqual(digest(presented), this.expected)) return true;
    throw Errors.metricsTokenRequired();
  }
}
