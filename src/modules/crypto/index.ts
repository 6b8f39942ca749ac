// What other modules may import from crypto (eslint enforces it; README "Module map").
export { CredentialCipher, DecryptionError } from './credential-cipher';
export { CryptoModule } from './crypto.module';
export { associatedDataFor } from './encrypted-columns';
