export {
  createPasswordHasher,
  hashPassword,
  verifyPassword,
  PASSWORD_HASH_DEFAULTS,
  type PasswordHasher,
  type PasswordHasherOptions,
  type PasswordVerification,
} from './hasher.ts';
export { checkPasswordPolicy, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, type PasswordPolicyOptions, type PasswordPolicyResult } from './policy.ts';
