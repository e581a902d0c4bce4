// Bad command-line input (unknown option, a value that is not a number...): exit status 2, no stack trace.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
