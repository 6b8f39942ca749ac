import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';

/**
 * A path id that is not a UUID answers 400 VALIDATION_FAILED naming the parameter, like a body
 * field would, instead of ParseUUIDPipe's generic 400.
 */
export const UuidParam = (name: string): ParseUUIDPipe =>
  new ParseUUIDPipe({
    exceptionFactory: () =>
      new DomainError('VALIDATION_FAILED', 'Request validation failed', [
        { field: name, message: `${name} must be a UUID` },
      ]),
  });
