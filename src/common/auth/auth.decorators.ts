import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthenticatedOrganization } from './api-key-resolver';

export const IS_PUBLIC = 'isPublic';

/** Routes that authenticate otherwise (Twilio signature) or not at all (health). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export type AuthenticatedRequest = Request & {
  organization?: AuthenticatedOrganization;
  /** The id of the API key that authenticated the request (the rate limit's key). */
  apiKeyId?: string;
};

/** The organization the API key resolved to; every dashboard query is scoped by it. */
export const CurrentOrganization = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedOrganization =>
    context.switchToHttp().getRequest<AuthenticatedRequest>()
      .organization as AuthenticatedOrganization,
);
