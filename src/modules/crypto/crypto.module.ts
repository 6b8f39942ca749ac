import { Module } from '@nestjs/common';
import { CredentialCipher } from './credential-cipher';
import { CredentialRotationService } from './credential-rotation.service';

@Module({
  providers: [CredentialCipher, CredentialRotationService],
  exports: [CredentialCipher, CredentialRotationService],
})
export class CryptoModule {}
