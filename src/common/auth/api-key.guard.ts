import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Errors } from '../errors/errors';
import { FailureLimiter } from '../rate-limit/failure-limiter';
import { ApiKeyResolver } from './api-key-resolver';
import { AuthenticatedRequest, IS_PUBLIC } from './auth.decorators';

const KNOWN_KEY_TTL_MS = 10 * 60_000;
const KNOWN_KEYS_MAX = 10_000;

/**
 * Global guard: `Authorization: Bearer <API key>` → the request's organization and key id, else
 * 401. Only a well-formed key costs a database lookup, so only those count as failed attempts:
 * past API_KEY_FAILURES_PER_MINUTE of them from one address, that address gets 429 without a
 * lookup, except for keys this instance resolved lately (a colleague behind the same address
 * keeps working; the lookup still decides, so a revoked key is refused at once).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly failures: FailureLimiter;
  /** SHA-256 of keys resolved lately → until when they count as known. */
  private readonly knownKeys = new Map<string, number>();

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyResolver,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'apiKeyFailuresPerMinute'>,
  ) {
    this.failures = new FailureLimiter(config.apiKeyFailuresPerMinute);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!presented || !this.apiKeys.isWellFormed(presented)) throw Errors.apiKeyRequired();
    const hash = createHash('sha256').update(presented).digest('base64');
    const known = (this.knownKeys.get(hash) ?? 0) > Date.now();
    // An unknown key's attempt is counted before its lookup, so concurrent attempts cannot all
    // slip through while the first ones are still being looked up.
    if (!known) {
      const wait = this.failures.fail(request.ip);
      if (wait > 0) throw Errors.tooManyApiKeyFailures(wait);
    }
    let resolved: Awaited<ReturnType<ApiKeyResolver['resolve']>>;
    try {
      resolved = await this.apiKeys.resolve(presented);
    } catch (error) {
      if (!known) this.failures.refund(request.ip); // not a failed attempt: the database failed
      throw error;
    }
    if (!resolved) {
      if (known) this.failures.fail(request.ip);
      this.knownKeys.delete(hash);
      throw Errors.apiKeyRequired();
    }
    if (!known) this.failures.refund(request.ip);
    if (this.knownKeys.size >= KNOWN_KEYS_MAX) this.knownKeys.clear();
    this.knownKeys.set(hash, Date.now() + KNOWN_KEY_TTL_MS);
    request.organization = resolved.organization;
    request.apiKeyId = resolved.keyId;
    return true;
  }
}
