/**
 * Builds the running application: database first (embedded server or DATABASE_URL, migrations
 * under a lock), then Nest with the HTTP platform pieces. Used by main.ts and by e2e tests, so the
 * tests boot exactly what production runs.
 */
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { Logger, type Params, PARAMS_PROVIDER_TOKEN } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import {
  answerClientErrors,
  bodyErrorMiddleware,
  rejectDeepJson,
  requireJsonBody,
} from './common/errors/body-error.middleware';
import { requestLogging } from './common/logging/logger-options';
import { isWebhookUrl } from './common/sms';
import { QuietBootLogger } from './common/logging/quiet-boot-logger';
import { REQUEST_ID_HEADER, requestIdMiddleware } from './common/logging/request-id';
import { httpMetricsMiddleware, METRICS_PATH } from './common/metrics/http-metrics.middleware';
import { MetricsService } from './common/metrics/metrics.service';
import { AppConfig } from './config/app-config';
import {
  DatabaseRetry,
  DatabaseRuntime,
  openDatabase,
  runMigrations,
  waitForDatabase,
} from './database/database-runtime';
import { CredentialRotationService } from './modules/crypto/credential-rotation.service';
import { buildOpenApiDocuments } from './openapi/openapi-documents';
import { ReadinessService } from './modules/health/readiness.service';

export interface RunningApplication {
  app: NestExpressApplication;
  database: DatabaseRuntime;
  /**
   * Readiness turns 503 (for SHUTDOWN_DRAIN_SECONDS while still serving), then closes workers,
   * HTTP and the pool, and the embedded database last.
   */
  close(): Promise<void>;
}

export const JSON_BODY_LIMIT = '100kb';
export const FORM_BODY_LIMIT = '64kb';

/**
 * CORS for the browser dashboard (DASHBOARD_ORIGINS): the response headers its code may read
 * (rate limits as @nestjs/throttler sends them, Retry-After, ETag, the request id), the request
 * headers it may send, and a preflight cached for 10 minutes instead of one per call.
 */
export function corsOptions(config: Pick<AppConfig, 'dashboardOrigins'>) {
  return {
    origin: config.dashboardOrigins.length ? config.dashboardOrigins : false,
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'Idempotency-Key',
      'If-None-Match',
      REQUEST_ID_HEADER,
    ],
    exposedHeaders: [
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'ETag',
      'Idempotent-Replayed',
      REQUEST_ID_HEADER,
    ],
    maxAge: 600,
  };
}

/**
 * As served, the documents name the server the page was loaded from first (a relative URL), then
 * PUBLIC_BASE_URL: Swagger UI's Try it out uses the first, and PUBLIC_BASE_URL may be a tunnel
 * for Twilio (ngrok) that a browser on localhost reaches only cross-origin.
 */
function reachableFirst(document: OpenAPIObject): OpenAPIObject {
  return {
    ...document,
    servers: [
      { url: '/', description: 'This server, as you reached it' },
      ...(document.servers ?? []),
    ],
  };
}

/** `middleware` for every request but Twilio's webhooks. */
export function exceptWebhooks(middleware: RequestHandler): RequestHandler {
  return (req, res, next) => (isWebhookUrl(req.url) ? next() : middleware(req, res, next));
}

export interface ApplicationOptions {
  /** Where logs go (tests capture them to scan for secrets); stdout by default. */
  logStream?: DestinationStream;
  /** Told of each failed attempt to reach DATABASE_URL while the start waits for it. */
  onDatabaseRetry?: (retry: DatabaseRetry) => void;
}

export async function createApplication(
  config: AppConfig,
  options: ApplicationOptions = {},
): Promise<RunningApplication> {
  if (config.databaseUrl) {
    await waitForDatabase(config.databaseUrl, config.databaseWaitSeconds, options.onDatabaseRetry);
  }
  const database = await openDatabase(config);
  let app: NestExpressApplication | null = null;
  try {
    await runMigrations(database.url);
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.register(config, database.url, options.logStream),
      {
        bodyParser: false,
        bufferLogs: true,
      },
    );
    await app.get(CredentialRotationService).assertKeysConfigured();
    app.useLogger(new QuietBootLogger(app.get(Logger)));
    // Prometheus scrapes /metrics, by convention outside the API.
    app.setGlobalPrefix('api', { exclude: [{ path: METRICS_PATH, method: RequestMethod.GET }] });
    app.set('trust proxy', 'loopback');
    // helmet removed it from every answer; the webhooks' answers skip helmet (below).
    app.disable('x-powered-by');
    app.use(requestIdMiddleware);
    app.use(httpMetricsMiddleware(app.get(MetricsService)));
    // Browser security headers (CSP, HSTS, frame and referrer policies …) on the pages and JSON a
    // browser may load; Twilio reads nothing of a webhook's answer but its status, so the webhooks,
    // most of the traffic, skip the dozen headers.
    app.use(exceptWebhooks(helmet()));
    app.enableCors(corsOptions(config));
    app.use(requireJsonBody);
    app.use(express.json({ limit: JSON_BODY_LIMIT, verify: rejectDeepJson }));
    // Twilio posts flat form fields; extended:false keeps them as plain strings for the signature.
    app.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 200 }));
    app.use(bodyErrorMiddleware);
    // After the body parsers, as nestjs-pino's own middleware was: the request's log line.
    app.use(requestLogging(app.get<Params>(PARAMS_PROVIDER_TOKEN)));
    answerClientErrors(app.getHttpServer());
    // API_DOCS=off: the docs and their JSON are unknown routes (404 in the contract's shape).
    if (config.apiDocs) {
      const documents = buildOpenApiDocuments(app, config.publicBaseUrl);
      SwaggerModule.setup('api/docs', app, documents.dashboard, {
        jsonDocumentUrl: 'api/docs-json',
        patchDocumentOnRequest: (_req, _res, document) => reachableFirst(document),
      });
      SwaggerModule.setup('api/docs-webhooks', app, documents.webhooks, {
        jsonDocumentUrl: 'api/docs-webhooks-json',
        patchDocumentOnRequest: (_req, _res, document) => reachableFirst(document),
      });
    }
    let closed = false;
    const started = app;
    return {
      app: started,
      database,
      async close() {
        if (closed) return;
        closed = true;
        started.get(ReadinessService).startDraining();
        if (config.shutdownDrainSeconds) {
          await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1_000));
        }
        await started.close();
        await database.stop();
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.stop();
    throw error;
  }
}
