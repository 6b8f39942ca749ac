import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SentryModule } from '@sentry/nestjs/setup';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { PostgresThrottlerStorage } from './common/rate-limit/postgres-throttler.storage';
import { RateLimitGuard } from './common/rate-limit/rate-limit.guard';
import { IdempotencyModule } from './common/idempotency/idempotency.module';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import { createValidationPipe } from './common/errors/validation';
import { UnknownQueryGuard } from './common/validation/unknown-query.guard';
import { loggerOptions } from './common/logging/logger-options';
import { MetricsModule } from './common/metrics/metrics.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { dataSourceOptions } from './database/data-source-options';
import { PreparedStatements } from './database/prepared-statements';
import { AgentModule } from './modules/agent/agent.module';
import { ChannelsModule } from './modules/channels/channels.module';
import { InboxModule } from './modules/inbox/inbox.module';
import { QueueModule } from './queue/queue.module';
import { TwilioSmsModule } from './modules/twilio-sms/twilio-sms.module';
import { CryptoModule } from './modules/crypto/crypto.module';
import { HealthModule } from './modules/health/health.module';
import { OrganizationsModule } from './modules/organizations/organizations.module';

@Module({})
export class AppModule {
  /** The database URL is resolved (embedded server started, migrations run) before Nest boots. */
  static register(
    config: AppConfig,
    databaseUrl: string,
    logStream?: DestinationStream,
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forConfig(config, databaseUrl),
        LoggerModule.forRoot(loggerOptions(config, logStream)),
        // Its request interceptor only matters when the SDK is initialised (instrument.ts).
        ...(config.sentryDsn ? [SentryModule.forRoot()] : []),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, config.databasePoolSize)),
        DatabaseModule,
        QueueModule,
        MetricsModule,
        IdempotencyModule,
        ThrottlerModule.forRootAsync({
          inject: [PreparedStatements],
          useFactory: (statements: PreparedStatements) => ({
            throttlers: [{ name: 'default', ttl: 60_000, limit: config.apiRateLimitPerMinute }],
            storage: new PostgresThrottlerStorage(statements),
          }),
        }),
        // First of the feature modules: Express tries routes in the order Nest registers them
        // (module order), and Twilio's webhooks are most of the traffic.
        TwilioSmsModule,
        HealthModule,
        OrganizationsModule,
        CryptoModule,
        AgentModule,
        ChannelsModule,
        InboxModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: UnknownQueryGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
