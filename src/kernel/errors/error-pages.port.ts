/**
 * How the error filter answers a person (a browser asking for HTML) instead of a program. The public site provides
 * it (with its masthead); the kernel cannot import the site, so it only knows this port and has a plain fallback.
 */
export abstract class ErrorPages {
  /** A whole HTML document for an error with this status; `detail` is safe to show (it is escaped by the renderer). */
  abstract render(error: { status: number; title: string; detail: string }): string;
}
