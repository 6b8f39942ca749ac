import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SentryModule } from '@sentry/nestjs/setup';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { HttpExceptionFilter } from './common/errors/http-exception.filter';
import { createValidationPipe } from './common/errors/validation';
import { loggerOptions } from './common/logging/logger-options';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source-options';
import { AgentModule } from './modules/agent/agent.module';
import { ChannelsModule } from './modules/channels/channels.module';
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
        ConfigModule.forConfig(config),
        LoggerModule.forRoot(loggerOptions(config, logStream)),
        SentryModule.forRoot(),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl)),
        HealthModule,
        OrganizationsModule,
        CryptoModule,
        AgentModule,
        ChannelsModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
