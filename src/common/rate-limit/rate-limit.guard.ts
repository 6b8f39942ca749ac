import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { AuthenticatedRequest } from '../auth/auth.decorators';

/**
 * The dashboard API's budget: one per API key across every route and instance, keyed by the key's
 * id (so every spelling of the Authorization header shares it). Runs after ApiKeyGuard; requests
 * it did not authenticate (Twilio's webhooks, health) are not limited here: failed attempts are
 * limited per address where they fail (ApiKeyGuard, TwilioSignatureGuard).
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(!context.switchToHttp().getRequest<AuthenticatedRequest>().apiKeyId);
  }

  protected getTracker(request: AuthenticatedRequest): Promise<string> {
    return Promise.resolve(`api-key:${request.apiKeyId}`);
  }

  /** The throttler's default key adds the controller and handler: a budget per route. */
  protected generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }
}
