import { Global, Module } from '@nestjs/common';
import { PreparedStatements } from './prepared-statements';
import { Transactions } from './transactions';

@Global()
@Module({
  providers: [PreparedStatements, Transactions],
  exports: [PreparedStatements, Transactions],
})
export class DatabaseModule {}
