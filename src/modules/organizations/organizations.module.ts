import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyResolver } from '../../common/auth/api-key-resolver';
import { ApiKey } from './api-key.entity';
import { ApiKeysService } from './api-keys.service';
import { Organization } from './organization.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Organization, ApiKey])],
  providers: [ApiKeysService, { provide: ApiKeyResolver, useExisting: ApiKeysService }],
  exports: [ApiKeysService, ApiKeyResolver],
})
export class OrganizationsModule {}
