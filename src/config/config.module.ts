import { DynamicModule, Global, Module } from '@nestjs/common';
import { DATABASE_URL } from '../database/database.tokens';
import { APP_CONFIG, AppConfig } from './app-config';

/** Provides the AppConfig validated once at boot, and the resolved database URL. */
@Global()
@Module({})
export class ConfigModule {
  static forConfig(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: DATABASE_URL, useValue: databaseUrl },
      ],
      exports: [APP_CONFIG, DATABASE_URL],
    };
  }
}
