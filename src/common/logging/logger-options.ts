import { RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stdSerializers, type DestinationStream, type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Params } from 'nestjs-pino';
import pretty from 'pino-pretty';
import type { AppConfig } from '../../config/app-config';
import { assignRequestId } from './request-id';

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

/** Probes and the metrics scrape are polled every few seconds: never request-logged. */
const PROBE_PATHS = new Set(['/api/health', '/api/health/live', '/api/health/ready', '/metrics']);

/**
 * Human-readable logs for a person at a terminal in development; one JSON line per event
 * everywhere else (production, CI, a log shipper, tests capturing `stream`).
 */
export function usePrettyLogs(
  config: Pick<AppConfig, 'nodeEnv'>,
  stdout: { isTTY?: boolean } = process.stdout,
): boolean {
  return stdout.isTTY === true && config.nodeEnv !== 'production';
}

interface LoggedRequest {
  id?: string;
  method?: string;
  url?: string;
}

/** One line per request ("GET /api/chatbots 200 12 ms [id]"); other fields follow as pino-pretty prints them. */
function prettyMessage(log: Record<string, unknown>, messageKey: string): string {
  const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
  const req = log.req as LoggedRequest | undefined;
  const res = log.res as { statusCode?: number } | undefined;
  if (req && res && typeof log.responseTime === 'number') {
    return `${context}${req.method} ${req.url} ${res.statusCode} ${log.responseTime} ms [${req.id}]`;
  }
  const message = String(log[messageKey] ?? '');
  return req?.id ? `${context}${message} [${req.id}]` : `${context}${message}`;
}

function prettyStream(): DestinationStream {
  return pretty({
    colorize: true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,req,res,responseTime',
    messageFormat: prettyMessage,
  });
}

/** The request middleware built for each set of LoggerModule params (see requestLogging). */
const requestLoggers = new WeakMap<Params, HttpLogger>();

/**
 * nestjs-pino with `useExisting`: the pino-http middleware is ours (requestLogging, installed by
 * bootstrap.ts), nestjs-pino binds whatever `req.log` it sets to the request's log context.
 */
export function loggerOptions(config: AppConfig, stream?: DestinationStream): Params {
  const http = pinoHttp({
    stream: stream ?? (usePrettyLogs(config) ? prettyStream() : undefined),
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    genReqId: assignRequestId,
    // Our serializers read three fields; pino-http's wrappers would first copy every header.
    wrapSerializers: false,
    // Bodies are never logged: they carry tokens and customers' messages.
    serializers: {
      // A reply job's lines carry only the id of the request that queued it (request-context.ts).
      req: (req: { id: unknown; method?: string; url?: string; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        url: (req.originalUrl ?? req.url)?.split('?')[0],
      }),
      // The status is what an operator needs; serializing every response header (helmet sets a
      // dozen) cost more per webhook than verifying its signature.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: stdSerializers.err,
    },
    autoLogging: {
      ignore: (req) => {
        // originalUrl: Express strips a middleware's mount path from req.url.
        const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
        return PROBE_PATHS.has(url.split('?')[0]);
      },
    },
  });
  const params: Params = {
    // Named wildcard: the default '*' under the 'api' prefix made Nest warn "Unsupported route
    // path: /api/*" twice on every start (nestjs-pino's documented fix).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: { logger: http.logger },
    useExisting: true,
  };
  requestLoggers.set(params, http);
  return params;
}

/**
 * A request's logger, made only when something logs. pino-http makes a child logger per request
 * (its bindings serialized and redacted) for the "request completed" line, which it writes at
 * info: below LOG_LEVEL=info that was work for a line never written, on every webhook.
 */
function lazyRequestLogger(root: Logger, req: IncomingMessage): Logger {
  let child: Logger | undefined;
  const real = () => (child ??= root.child({ req }));
  return new Proxy(root, {
    get(_root, property) {
      const target = real();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
    set: (_root, property, value) => Reflect.set(real(), property, value),
  });
}

type RequestLogging = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * The request-logging middleware for LoggerModule params made by loggerOptions: pino-http (one
 * line per request) when its info lines are written, otherwise only a lazily made `req.log`, so
 * the lines a request does write (warn, error) still carry its id.
 */
export function requestLogging(params: Params): RequestLogging {
  const http = requestLoggers.get(params);
  if (!http) throw new Error('requestLogging: params not made by loggerOptions');
  if (http.logger.isLevelEnabled('info')) return http;
  return (req, _res, next) => {
    (req as IncomingMessage & { log?: Logger }).log = lazyRequestLogger(http.logger, req);
    next();
  };
}
