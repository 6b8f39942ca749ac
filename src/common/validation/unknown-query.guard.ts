import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { AuthenticatedRequest } from '../auth/auth.decorators';
import { Errors } from '../errors/errors';

/**
 * Unknown query parameters are refused on every dashboard route, as unknown body fields are: a
 * route with a query DTO refuses them in the ValidationPipe (forbidNonWhitelisted); this guard
 * gives a route without one (GET by id, the writes) the same 400 with the same words, so `?_=1`
 * or a misspelt `?limt=5` is never silently ignored. Twilio's webhooks (the status callback
 * carries `?messageId=`) and the health probes are not the dashboard's and are left alone.
 */
@Injectable()
export class UnknownQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!request.apiKeyId) return true;
    const names = Object.keys((request.query ?? {}) as Record<string, unknown>);
    if (!names.length) return true;
    const args = (Reflect.getMetadata(
      ROUTE_ARGS_METADATA,
      context.getClass(),
      context.getHandler().name,
    ) ?? {}) as Record<string, unknown>;
    const hasQueryDto = Object.keys(args).some((key) =>
      key.startsWith(`${RouteParamtypes.QUERY}:`),
    );
    if (hasQueryDto) return true;
    throw Errors.validationFailed(
      names.map((name) => ({ field: name, message: `property ${name} should not exist` })),
    );
  }
}
