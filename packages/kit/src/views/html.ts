// Server-rendered HTML without a template engine: `html` is a tagged template
// whose holes are escaped for the place they stand in. TSX would need a
// compile step, which type stripping does not have; a tag keeps the markup in
// the source and the escaping out of the author's hands.
//
// The holes of a template are classified once per call site (the strings
// array is the same object for every call of one template literal) by a small
// scanner that follows the HTML tokenizer just far enough to know whether a
// hole is text, a quoted attribute value, a URL attribute value, inside a tag
// or inside <script>/<style>. Go's html/template does the same, completely;
// this is the part that matters for templates we write ourselves.
import { KitError } from '../errors.ts';

const INTERNAL = Symbol('rampart.safe-html');

/** Markup that is already safe to send: the result of `html` or `raw`. */
export class SafeHtml {
  readonly #html: string;

  constructor(token: symbol, value: string) {
    // Only this module may mint SafeHtml; `new SafeHtml(userInput)` would be raw() in disguise.
    if (token !== INTERNAL) throw new KitError('RAMPART_ERR_VIEW_SAFE_HTML', 'SafeHtml is made by html`…` or raw(…), not by new SafeHtml()');
    this.#html = value;
  }

  static is(value: unknown): value is SafeHtml {
    return typeof value === 'object' && value !== null && #html in value;
  }

  toString(): string {
    return this.#html;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };
const ESCAPE_RE = /[&<>"'`]/g;

/** Text with & < > " ' and ` replaced by character references: safe in element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(ESCAPE_RE, (c) => ESCAPES[c] ?? c);
}

/**
 * Trusted markup, inserted as it is. Dangerous: never pass anything that a
 * user, a database row or a request could have influenced. Meant for markup
 * produced by code you control (a pre-rendered fragment, an SVG icon file).
 */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(INTERNAL, trusted);
}

// Allowlist, not a denylist: besides javascript:, data: and vbscript:, browsers
// and OS handlers know schemes nobody has audited (OWASP XSS Prevention Cheat
// Sheet, rule on URL contexts).
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);

/**
 * The URL itself when it is relative or uses http, https, mailto or tel;
 * '#' for anything else (javascript:, data:, vbscript:, …). Browsers drop
 * tabs and newlines and leading control characters and spaces before they
 * read the scheme (WHATWG URL), so this does too.
 */
export function safeUrl(value: string | URL): string {
  const text = String(value);
  const normalised = text.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(normalised);
  if (scheme === null) return text;
  return SAFE_SCHEMES.has((scheme[1] ?? '').toLowerCase()) ? text : '#';
}

type HoleContext = 'text' | 'attribute' | 'url' | 'tag' | 'unquoted' | 'rawtext';

const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'poster', 'cite', 'background', 'xlink:href', 'srcset', 'ping']);
const RAWTEXT_ELEMENTS = new Set(['script', 'style']);

const contexts = new WeakMap<TemplateStringsArray, readonly HoleContext[]>();

function classify(strings: TemplateStringsArray): readonly HoleContext[] {
  const cached = contexts.get(strings);
  if (cached !== undefined) return cached;
  const result: HoleContext[] = [];
  type State = 'text' | 'tag' | 'dq' | 'sq' | 'comment' | 'rawtext';
  let state: State = 'text';
  let tagName = '';
  let rawEnd = '';
  let attrName = '';
  let afterEquals = false;
  let valueStart = false; // no literal character of the current attribute value yet
  for (let s = 0; s < strings.length; s++) {
    const chunk = strings[s] ?? '';
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as string;
      switch (state) {
        case 'text':
          if (c === '<' && chunk.startsWith('<!--', i)) {
            state = 'comment';
            i += 3;
          } else if (c === '<' && /[a-zA-Z/!]/.test(chunk[i + 1] ?? '')) {
            state = 'tag';
            const name = /^<\/?([a-zA-Z][a-zA-Z0-9-]*)/.exec(chunk.slice(i));
            tagName = chunk[i + 1] === '/' ? '' : (name?.[1] ?? '').toLowerCase();
            attrName = '';
            afterEquals = false;
            i += (name?.[0].length ?? 1) - 1;
          }
          break;
        case 'tag':
          if (c === '>') {
            state = RAWTEXT_ELEMENTS.has(tagName) ? 'rawtext' : 'text';
            rawEnd = `</${tagName}`;
          } else if (c === '"' || c === "'") {
            state = c === '"' ? 'dq' : 'sq';
            valueStart = true;
          } else if (c === '=') {
            afterEquals = true;
          } else if (/\s|\//.test(c)) {
            if (!afterEquals) attrName = '';
          } else {
            if (afterEquals) afterEquals = false; // an unquoted value written in the template itself
            else attrName += c.toLowerCase();
          }
          break;
        case 'dq':
        case 'sq':
          valueStart = false;
          if (c === (state === 'dq' ? '"' : "'")) {
            state = 'tag';
            attrName = '';
            afterEquals = false;
          }
          break;
        case 'comment':
          if (chunk.startsWith('-->', i)) {
            state = 'text';
            i += 2;
          }
          break;
        case 'rawtext':
          if (chunk.slice(i, i + rawEnd.length).toLowerCase() === rawEnd) {
            state = 'tag';
            tagName = '';
            i += rawEnd.length - 1;
          }
          break;
      }
    }
    if (s === strings.length - 1) break;
    switch (state) {
      case 'text':
      case 'comment':
        result.push('text');
        break;
      case 'dq':
      case 'sq':
        // Every hole before the first literal character of a URL attribute's
        // value can decide the scheme, so each of them goes through safeUrl.
        result.push(valueStart && URL_ATTRIBUTES.has(attrName) ? 'url' : 'attribute');
        break;
      case 'tag':
        result.push(afterEquals ? 'unquoted' : 'tag');
        break;
      case 'rawtext':
        result.push('rawtext');
        break;
    }
  }
  contexts.set(strings, result);
  return result;
}

function isTemplate(strings: unknown): strings is TemplateStringsArray {
  return Array.isArray(strings) && Object.isFrozen(strings) && Array.isArray((strings as unknown as { raw?: unknown }).raw);
}

/**
 * Strings, numbers, bigints, true, and objects with their own toString (Date,
 * URL). A promise, a function or a plain object is a bug in the template
 * (a forgotten await or call, a missing field access): refused rather than
 * rendered as "[object Promise]".
 */
function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object': {
      const own = (value as { toString?: unknown }).toString;
      if (value !== null && typeof (value as { then?: unknown }).then !== 'function' && typeof own === 'function' && own !== Object.prototype.toString) {
        return (value as { toString(): string }).toString();
      }
      break;
    }
    default:
      break;
  }
  const what = typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function' ? 'promise' : typeof value === 'object' ? 'plain object' : typeof value;
  throw new KitError('RAMPART_ERR_VIEW_VALUE', `a ${what} was interpolated into html\`…\`; interpolate text, numbers, html\`…\` or arrays of them (await promises, call functions, pick a field of objects)`);
}

function render(value: unknown, context: HoleContext, out: string[]): void {
  if (value === null || value === undefined || value === false) return;
  if (SafeHtml.is(value)) {
    out.push(value.toString());
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) render(item, context, out);
    return;
  }
  switch (context) {
    case 'text':
    case 'attribute':
      out.push(escapeHtml(toText(value)));
      return;
    case 'url':
      out.push(escapeHtml(safeUrl(toText(value))));
      return;
    case 'unquoted':
      throw new KitError('RAMPART_ERR_VIEW_UNQUOTED_ATTRIBUTE', 'an attribute value in html`…` is not quoted: write name="${value}", an unquoted value can be broken out of with a space');
    case 'tag':
      throw new KitError('RAMPART_ERR_VIEW_TAG_HOLE', 'text was interpolated inside a tag in html`…`: put it in a quoted attribute value, or interpolate html`checked`-style SafeHtml');
    case 'rawtext':
      throw new KitError('RAMPART_ERR_VIEW_SCRIPT_HOLE', 'text was interpolated inside <script> or <style> in html`…`: HTML escaping does not protect there; pass data in a data-* attribute instead');
  }
}

/**
 * A template whose holes are escaped: text and quoted attribute values get
 * & < > " ' ` escaped, URL attributes (href, src, action, …) also go through
 * safeUrl, SafeHtml (nested templates, raw) and arrays of it are inserted as
 * they are, null / undefined / false render as nothing. Unquoted attribute
 * values and text inside <script>/<style> are refused with a KitError.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  if (!isTemplate(strings)) throw new KitError('RAMPART_ERR_VIEW_NOT_TEMPLATE', 'html must be used as a tag: html`<p>${text}</p>`');
  const holes = classify(strings);
  const out: string[] = [strings[0] ?? ''];
  for (let i = 0; i < values.length; i++) {
    render(values[i], holes[i] ?? 'text', out);
    out.push(strings[i + 1] ?? '');
  }
  return new SafeHtml(INTERNAL, out.join(''));
}
