export { loadSecrets, type LoadSecretsOptions } from './load.ts';
