import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { isWebhookUrl } from '../sms';
import { ErrorBody } from './error-codes';
import { Errors, JSON_MAX_DEPTH } from './errors';

/**
 * express.json `verify` hook: refuses bodies nested deeper than JSON_MAX_DEPTH before they are
 * parsed (a byte scan that skips string literals), so no later recursion can overflow the stack.
 */
export function rejectDeepJson(_req: unknown, _res: unknown, buffer: Buffer): void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const byte of buffer) {
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > JSON_MAX_DEPTH)
        throw Object.assign(new Error('JSON nested too deeply'), { type: 'entity.too.deep' });
    } else if (byte === 0x5d || byte === 0x7d) depth -= 1;
  }
}

/**
 * Every route but the webhooks (Twilio posts forms and signs their fields) takes JSON only: a
 * body (Content-Length above 0, or chunked) of any other type, or of no declared type (a plain
 * fetch() of a string sends text/plain), answers 415 before it is read, rather than being parsed
 * as a form or dropped and then reported as missing fields. A body-less request (GET, DELETE, an empty POST) has no type to check.
 */
export function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
  if (!hasBody || isWebhookUrl(req.url) || req.is('application/json')) return next();
  res.status(415).json(Errors.jsonOnly().toBody());
}

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
  if (error.type === 'entity.too.large') body = Errors.payloadTooLarge().toBody();
  else if (error.type === 'entity.parse.failed') body = Errors.malformedJson().toBody();
  else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported')
    body = Errors.unsupportedBodyEncoding().toBody();
  else if (error.type === 'entity.too.deep') body = Errors.jsonTooDeep().toBody();
  else if (error.type || (error.status && error.status >= 400 && error.status < 500))
    // e.g. a Content-Encoding: gzip body that does not inflate (no `type` from body-parser)
    body = Errors.unreadableBody().toBody();
  if (!body) return next(error);
  res.status(body.statusCode).json(body);
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (a URL or headers over
 * --max-http-header-size, a broken request line) get the contract's shape too, not an empty 431/400.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = (
      error.code === 'HPE_HEADER_OVERFLOW'
        ? Errors.headersTooLarge()
        : Errors.malformedHttpRequest()
    ).toBody();
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${body.statusCode} ${body.statusCode === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  });
}
