import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from './api-key.entity';
import { ApiKeysService } from './api-keys.service';
import { Organization } from './organization.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Organization, ApiKey])],
  providers: [ApiKeysService],
  exports: [ApiKeysService],
})
export class OrganizationsModule {}
