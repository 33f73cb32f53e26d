/**
 * PostgreSQL connection URLs as the library names them, without loading the client: recognising one and
 * hiding its password in messages and `library.path`.
 */

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL with its password replaced by `***`, for messages, logs and `library.path`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href;
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
