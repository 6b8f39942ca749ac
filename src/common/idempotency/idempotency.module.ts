import { Global, Module } from '@nestjs/common';
import { IdempotencyKeyStore } from './idempotency-key.store';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * The store and the interceptor `@Idempotent()` puts on its routes. Global, so the interceptor
 * resolves in whichever feature module's controller uses the decorator.
 */
@Global()
@Module({
  providers: [IdempotencyKeyStore, IdempotencyInterceptor],
  exports: [IdempotencyKeyStore, IdempotencyInterceptor],
})
export class IdempotencyModule {}
