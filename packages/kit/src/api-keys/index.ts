export {
  createApiKeyStore,
  type ApiKeyDb,
  type ApiKeyIdentity,
  type ApiKeyInfo,
  type ApiKeyStore,
  type ApiKeyStoreOptions,
  type IssuedApiKey,
  type IssueApiKeyOptions,
  type RotateApiKeyOptions,
} from './store.ts';
export { kitApiKeys, requireApiKey, type KitApiKeysOptions } from './plugin.ts';
