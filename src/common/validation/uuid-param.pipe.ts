import { ParseUUIDPipe } from '@nestjs/common';
import { Errors } from '../errors/errors';

/**
 * A path id that is not a UUID answers 400 VALIDATION_FAILED naming the parameter, like a body
 * field would, instead of ParseUUIDPipe's generic 400.
 */
export const UuidParam = (name: string): ParseUUIDPipe =>
  new ParseUUIDPipe({
    exceptionFactory: () => Errors.invalidField(name, `${name} must be a UUID`),
  });
