export { html, raw, safeUrl, escapeHtml, SafeHtml } from './html.ts';
export { kitViews } from './plugin.ts';
