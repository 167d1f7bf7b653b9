import { STATUS_CODES } from 'node:http';

/** Reason phrases (RFC 9110 §15), plus 499 for requests the client abandoned (nginx's code). */
export const STATUS_TEXT: Readonly<Record<number, string>> = { ...STATUS_CODES, 499: 'Client Closed Request' };
