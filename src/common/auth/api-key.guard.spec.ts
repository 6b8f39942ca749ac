import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../errors/domain-error';
import type { ApiKeysService } from '../../modules/organizations/api-keys.service';
import type { Organization } from '../../modules/organizations/organization.entity';
import { ApiKeyGuard } from './api-key.guard';
import { IS_PUBLIC } from './auth.decorators';

const organization = { id: 'org-1', name: 'Acme', plan: 'starter' } as Organization;

function contextFor(authorization: string | undefined, isPublic = false) {
  const request: { headers: Record<string, string | undefined>; organization?: Organization } = {
    headers: { authorization },
  };
  const handler = () => undefined;
  if (isPublic) Reflect.defineMetadata(IS_PUBLIC, true, handler);
  const context = {
    getHandler: () => handler,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

describe('ApiKeyGuard', () => {
  const resolve = jest.fn(async (key: string) => (key === 'sk_good' ? organization : null));
  const guard = new ApiKeyGuard(new Reflector(), { resolve } as unknown as ApiKeysService);

  beforeEach(() => resolve.mockClear());

  it('resolves a Bearer key to the request organization', async () => {
    const { context, request } = contextFor('Bearer sk_good');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.organization).toBe(organization);
  });

  it.each([
    undefined,
    '',
    'sk_good',
    'Basic sk_good',
    'Bearer',
    'Bearer sk_bad',
    'Bearer sk_good extra',
  ])('answers 401 UNAUTHORIZED for %p', async (header) => {
    const { context, request } = contextFor(header);
    await expect(guard.canActivate(context)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
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
