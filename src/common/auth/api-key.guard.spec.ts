import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../errors/domain-error';
import type { ApiKeyResolver, AuthenticatedOrganization } from './api-key-resolver';
import { ApiKeyGuard } from './api-key.guard';
import { IS_PUBLIC } from './auth.decorators';

const organization: AuthenticatedOrganization = { id: 'org-1', name: 'Acme', plan: 'starter' };

function contextFor(authorization: string | undefined, isPublic = false) {
  const request: {
    headers: Record<string, string | undefined>;
    ip: string;
    organization?: AuthenticatedOrganization;
    apiKeyId?: string;
  } = { headers: { authorization }, ip: '192.0.2.1' };
  const handler = () => undefined;
  if (isPublic) Reflect.defineMetadata(IS_PUBLIC, true, handler);
  const context = {
    getHandler: () => handler,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

const good = `sk_${'a'.repeat(16)}_${'G'.repeat(43)}`;
const wellFormed = (i: number) => `sk_${i.toString(16).padStart(16, '0')}_${'B'.repeat(43)}`;

describe('ApiKeyGuard', () => {
  const resolve = jest.fn(async (key: string) =>
    key === good ? { keyId: 'key-1', organization } : null,
  );
  const apiKeys = {
    resolve,
    isWellFormed: (key: string) => /^sk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}$/.test(key),
  } as unknown as ApiKeyResolver;
  let guard: ApiKeyGuard;

  beforeEach(() => {
    resolve.mockClear();
    guard = new ApiKeyGuard(new Reflector(), apiKeys, { apiKeyFailuresPerMinute: 3 });
  });

  it('resolves a Bearer key to the request organization and key id, however the header is spelled', async () => {
    for (const header of [`Bearer ${good}`, `bearer ${good}`, `Bearer \t ${good} `]) {
      const { context, request } = contextFor(header);
      await expect(guard.canActivate(context)).resolves.toBe(true);
      expect(request).toMatchObject({ organization, apiKeyId: 'key-1' });
    }
  });

  it('after N unknown keys from one address: 429 with no lookup, but a key it knows still works', async () => {
    await guard.canActivate(contextFor(`Bearer ${good}`).context);
    for (let i = 0; i < 3; i += 1)
      await expect(
        guard.canActivate(contextFor(`Bearer ${wellFormed(i)}`).context),
      ).rejects.toMatchObject({ httpStatus: 401 });
    resolve.mockClear();
    await expect(
      guard.canActivate(contextFor(`Bearer ${wellFormed(9)}`).context),
    ).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    expect(resolve).not.toHaveBeenCalled();
    await expect(guard.canActivate(contextFor(`Bearer ${good}`).context)).resolves.toBe(true);
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it('a malformed key is refused without a lookup, and does not count as an attempt', async () => {
    for (let i = 0; i < 10; i += 1)
      await expect(guard.canActivate(contextFor('Bearer sk_short').context)).rejects.toMatchObject({
        httpStatus: 401,
      });
    expect(resolve).not.toHaveBeenCalled();
    await expect(
      guard.canActivate(contextFor(`Bearer ${wellFormed(1)}`).context),
    ).rejects.toMatchObject({ httpStatus: 401 });
  });

  it.each([
    undefined,
    '',
    good,
    `Basic ${good}`,
    'Bearer',
    `Bearer ${wellFormed(1)}`,
    `Bearer ${good} extra`,
  ])('answers 401 UNAUTHORIZED for %p', async (header) => {
    const { context, request } = contextFor(header);
    await expect(guard.canActivate(context)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      httpStatus: 401,
    });
    await expect(guard.canActivate(context)).rejects.toBeInstanceOf(DomainError);
    expect(request.organization).toBeUndefined();
  });

  it('lets public routes (webhooks, health) through without a key', async () => {
    const { context } = contextFor(undefined, true);
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(resolve).not.toHaveBeenCalled();
  });
});
