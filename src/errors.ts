// Errors a user can act on: a stable `code` for programs, a message that names the problem for people.
export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_INPUT'
  | 'ERR_BAD_CHECKPOINT'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_NON_FINITE'
  | 'ERR_LOCKED';

export class RnnkitError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RnnkitError';
  }
}

export const invalidOption = (message: string): RnnkitError => new RnnkitError('ERR_INVALID_OPTION', message);
export const invalidInput = (message: string): RnnkitError => new RnnkitError('ERR_INVALID_INPUT', message);
export const badCheckpoint = (message: string): RnnkitError => new RnnkitError('ERR_BAD_CHECKPOINT', message);
