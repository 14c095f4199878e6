// Classic script, loaded before the page's module: records every
// Content-Security-Policy violation and every uncaught error from the start,
// including any raised while the telemetry module is imported.
window.__violations = [];
window.__errors = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push({
    directive: e.violatedDirective,
    blocked: e.blockedURI,
    sample: e.sample,
  });
});
window.addEventListener('error', (e) => {
  window.__errors.push(String(e.message));
});
window.addEventListener('unhandledrejection', (e) => {
  window.__errors.push(String(e.reason));
});
