/** Placeholder replaced below. */
export function renderPage(): string {
  return '<!doctype html><title>fake sink</title><p>fake analytics sink</p>';
}
