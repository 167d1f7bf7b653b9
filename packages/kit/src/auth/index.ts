export { authenticate, type AuthenticateOptions } from './authenticate.ts';
export { createResetTokens, type ResetAccount, type ResetTokens, type ResetTokensOptions } from './reset-tokens.ts';
