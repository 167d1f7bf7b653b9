// Errors of @rampart/kit: a stable code (RAMPART_ERR_…) and a message that
// says what to do. Codes are listed in docs/kit.md.

export class KitError extends Error {
  readonly code: `RAMPART_ERR_${string}`;

  constructor(code: `RAMPART_ERR_${string}`, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KitError';
    this.code = code;
  }
}
