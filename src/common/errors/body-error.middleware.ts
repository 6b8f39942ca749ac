import type { NextFunction, Request, Response } from 'express';
import { ErrorBody } from './error-codes';

/**
 * body-parser fails before Nest's routing, so its errors never reach the exception filter; this
 * Express error handler gives them the contract's shape.
 */
export function bodyErrorMiddleware(
  error: { type?: string; status?: number },
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  let body: ErrorBody | null = null;
  if (error.type === 'entity.too.large') {
    body = { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' };
  } else if (error.type === 'entity.parse.failed') {
    body = { statusCode: 400, code: 'MALFORMED_BODY', message: 'Request body is not valid JSON' };
  } else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
    body = {
      statusCode: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Unsupported body encoding',
    };
  } else if (error.type) {
    body = { statusCode: 400, code: 'MALFORMED_BODY', message: 'Request body could not be read' };
  }
  if (!body) return next(error);
  res.status(body.statusCode).json(body);
}
