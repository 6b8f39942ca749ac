import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../errors/domain-error';
import { ApiKeysService } from '../../modules/organizations/api-keys.service';
import { AuthenticatedRequest, IS_PUBLIC } from './auth.decorators';

/** Global guard: `Authorization: Bearer <API key>` → the request's organization, else 401. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const organization = match ? await this.apiKeys.resolve(match[1]) : null;
    if (!organization)
      throw new DomainError(
        'UNAUTHORIZED',
        'A valid API key is required (Authorization: Bearer <key>)',
      );
    request.organization = organization;
    return true;
  }
}
