/**
 * One error type for everything a client may be told. `code` is a stable machine string:
 * it crosses process boundaries (RPC replies over RabbitMQ) and ends up in problem details.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  /** Extra response headers, e.g. Retry-After for 429/423. */
  readonly headers: Record<string, string> | undefined;

  constructor(shape: AppErrorShape) {
    super(shape.detail ?? shape.title);
    this.name = 'AppError';
    this.status = shape.status;
    this.code = shape.code;
    this.title = shape.title;
    this.detail = shape.detail;
    this.errors = shape.errors;
    this.headers = shape.headers;
  }

  static badRequest(code: string, detail?: string, errors?: FieldError[]) {
    return new AppError({ status: 400, code, title: 'Bad Request', detail, errors });
  }
  static validation(errors: FieldError[], detail = 'The request is not valid.') {
    return new AppError({ status: 400, code: 'validation_failed', title: 'Validation Failed', detail, errors });
  }
  static unauthorized(code = 'unauthorized', detail = 'Authentication is required.') {
    return new AppError({ status: 401, code, title: 'Unauthorized', detail });
  }
  static forbidden(code = 'forbidden', detail = 'You do not have permission to do this.') {
    return new AppError({ status: 403, code, title: 'Forbidden', detail });
  }
  static notFound(code = 'not_found', detail = 'The resource does not exist.') {
    return new AppError({ status: 404, code, title: 'Not Found', detail });
  }
  static unavailable(code = 'service_unavailable', detail = 'A dependency is unavailable; try again.') {
    return new AppError({ status: 503, code, title: 'Service Unavailable', detail });
  }
  static timeout(code = 'upstream_timeout', detail = 'A dependency did not answer in time; try again.') {
    return new AppError({ status: 504, code, title: 'Gateway Timeout', detail });
  }
}

/** The serialisable form, used in RPC error replies. */
export interface AppErrorShape {
  status: number;
  code: string;
  title: string;
  detail?: string | undefined;
  errors?: FieldError[] | undefined;
  headers?: Record<string, string> | undefined;
}

export function toErrorShape(e: AppError): AppErrorShape {
  return { status: e.status, code: e.code, title: e.title, detail: e.detail, errors: e.errors, headers: e.headers };
}

export function fromErrorShape(s: AppErrorShape): AppError {
  return new AppError(s);
}
