// Every error of @rampart/data, with a stable code and what to do about it.

export type DataErrorCode =
  | 'RAMPART_ERR_SQL_NOT_TEMPLATE'
  | 'RAMPART_ERR_SQL_IDENT'
  | 'RAMPART_ERR_ROW_COUNT'
  | 'RAMPART_ERR_TRANSACTION_DONE'
  | 'RAMPART_ERR_MIGRATION_CHANGED'
  | 'RAMPART_ERR_MIGRATION_FAILED'
  | 'RAMPART_ERR_MIGRATION_NAME'
  | 'RAMPART_ERR_MIGRATION_DIR'
  | 'RAMPART_ERR_POSTGRES_START'
  | 'RAMPART_ERR_REDIS_START';

export class DataError extends Error {
  readonly code: DataErrorCode;

  constructor(code: DataErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataError';
    this.code = code;
  }
}
