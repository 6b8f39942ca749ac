import type { DestinationStream } from 'pino';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../../config/app-config';

/**
 * Paths pino blanks out wherever they appear: credentials in headers and bodies, and any property
 * named like a secret. Secret objects already print as [REDACTED]; this is the second belt.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-twilio-signature"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'authToken',
  'apiKey',
  '*.authToken',
  '*.auth_token',
  '*.apiKey',
  '*.password',
  '*.encryptionKey',
  '*.*.authToken',
  '*.*.apiKey',
  // TypeORM's QueryFailedError carries the statement's values: message bodies, phone numbers.
  'err.parameters',
  'err.driverError.parameters',
];

export function loggerOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: {
      stream,
      level: config.logLevel,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      // Bodies are never logged: they carry tokens and customers' messages.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url.split('?')[0],
        }),
        // The status is what an operator needs; serializing every response header (helmet sets a
        // dozen) cost more per webhook than verifying its signature.
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/api/health' },
    },
  };
}
