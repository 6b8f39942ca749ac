import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import type { Request } from 'express';

export const isWebhook = (request: Request): boolean => request.path.startsWith('/api/webhooks/');

/**
 * Rate limits by who is asking: a Twilio number on the webhooks (one noisy number cannot starve
 * the others), an API key on the dashboard API (a hash of it, never the key itself), the client
 * address otherwise. Counters are per instance (in memory).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected async getTracker(request: Request): Promise<string> {
    if (isWebhook(request)) {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const number = request.path.endsWith('/status') ? body.From : body.To;
      return `number:${typeof number === 'string' ? number : request.ip}`;
    }
    const authorization = request.headers.authorization;
    if (authorization) return `key:${createHash('sha256').update(authorization).digest('hex')}`;
    return `ip:${request.ip}`;
  }
}
