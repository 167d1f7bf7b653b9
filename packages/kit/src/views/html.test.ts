import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, raw, safeUrl, escapeHtml, SafeHtml } from './html.ts';
import { KitError } from '../errors.ts';

const render = (page: SafeHtml) => page.toString();

test('each of & < > " \' and ` is escaped in text', () => {
  assert.equal(render(html`<p>${'&'}</p>`), '<p>&amp;</p>');
  assert.equal(render(html`<p>${'<'}</p>`), '<p>&lt;</p>');
  assert.equal(render(html`<p>${'>'}</p>`), '<p>&gt;</p>');
  assert.equal(render(html`<p>${'"'}</p>`), '<p>&quot;</p>');
  assert.equal(render(html`<p>${"'"}</p>`), '<p>&#39;</p>');
  assert.equal(render(html`<p>${'`'}</p>`), '<p>&#96;</p>');
  assert.equal(escapeHtml('a&b<c>d"e\'f`g'), 'a&amp;b&lt;c&gt;d&quot;e&#39;f&#96;g');
});

test("the lecture's 404 payload comes out as text", () => {
  const path = "/<script>alert('hi')</script>";
  const page = render(html`<h1>Not Found: ${path}</h1>`);
  assert.equal(page, '<h1>Not Found: /&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;</h1>');
  assert.doesNotMatch(page, /<script/);
});

test('a value cannot break out of a quoted attribute', () => {
  const payload = '" onmouseover="alert(1)" x="';
  const page = render(html`<input name="q" value="${payload}">`);
  assert.equal(page, '<input name="q" value="&quot; onmouseover=&quot;alert(1)&quot; x=&quot;">');
  const single = render(html`<input value='${"' autofocus onfocus='alert(1)"}'>`);
  assert.equal(single, "<input value='&#39; autofocus onfocus=&#39;alert(1)'>");
});

test('nested templates are inserted as they are, their own holes escaped once', () => {
  const item = (name: string) => html`<li>${name}</li>`;
  const page = render(html`<ul>${item('<b>')}</ul>`);
  assert.equal(page, '<ul><li>&lt;b&gt;</li></ul>');
});

test('arrays of templates and of strings render in order; strings in arrays are escaped', () => {
  const page = render(html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul><p>${['<', html`<br>`, 1]}</p>`);
  assert.equal(page, '<ul><li>a</li><li>b</li></ul><p>&lt;<br>1</p>');
});

test('null, undefined and false render as nothing; 0 and true do render', () => {
  assert.equal(render(html`[${null}${undefined}${false}]`), '[]');
  assert.equal(render(html`[${0}${true}]`), '[0true]');
  const loggedIn = false;
  assert.equal(render(html`<nav>${loggedIn && html`<a href="/logout">out</a>`}</nav>`), '<nav></nav>');
});

test('raw() is trusted and inserted as it is', () => {
  assert.equal(render(html`<div>${raw('<svg></svg>')}</div>`), '<div><svg></svg></div>');
});

test('safeUrl refuses javascript:, data: and vbscript: even disguised; keeps http(s), mailto, tel and relative URLs', () => {
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)', '\u0001javascript:x', 'data:text/html,<script>x</script>', 'vbscript:msgbox', 'file:///etc/passwd']) {
    assert.equal(safeUrl(bad), '#', bad);
  }
  for (const good of ['https://example.com/a?b=c', 'http://x', 'mailto:a@b.c', 'tel:+331', '/flights/1', 'search?q=a:b', '#top', '//cdn.example/x']) {
    assert.equal(safeUrl(good), good, good);
  }
});

test('a hole at the start of a URL attribute goes through safeUrl; later holes only get escaped', () => {
  assert.equal(render(html`<a href="${'javascript:alert(1)'}">x</a>`), '<a href="#">x</a>');
  assert.equal(render(html`<form action='${'data:text/html,x'}'></form>`), "<form action='#'></form>");
  assert.equal(render(html`<a href="${''}${'javascript:alert(1)'}">x</a>`), '<a href="#">x</a>');
  assert.equal(render(html`<a href="/search?q=${'javascript:x&y'}">x</a>`), '<a href="/search?q=javascript:x&amp;y">x</a>');
  assert.equal(render(html`<a title="${'javascript:x'}">x</a>`), '<a title="javascript:x">x</a>');
});

test('an unquoted attribute value is refused, not escaped', () => {
  assert.throws(() => html`<input value=${'x onfocus=alert(1)'}>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_UNQUOTED_ATTRIBUTE');
});

test('text inside a tag is refused; SafeHtml and false are allowed there', () => {
  assert.throws(() => html`<input ${'onfocus="alert(1)"'}>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_TAG_HOLE');
  assert.equal(render(html`<input type="checkbox" ${html`checked`}>`), '<input type="checkbox" checked>');
  assert.equal(render(html`<input type="checkbox" ${false}>`), '<input type="checkbox" >');
});

test('text inside <script> or <style> is refused; attributes of the tag are fine', () => {
  assert.throws(() => html`<script>var x = "${'</script><script>alert(1)//'}";</script>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_SCRIPT_HOLE');
  assert.throws(() => html`<style>p { color: ${'red'} }</style>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_SCRIPT_HOLE');
  assert.equal(render(html`<script nonce="${'abc'}">1</script><p>${'<'}</p>`), '<script nonce="abc">1</script><p>&lt;</p>');
});

test('comments and text with a lone < are scanned correctly', () => {
  assert.equal(render(html`<!-- <a href= --><p>a < b ${'<i>'}</p>`), '<!-- <a href= --><p>a < b &lt;i&gt;</p>');
});

test('promises, functions and plain objects are refused: a forgotten await must not render "[object Promise]"', () => {
  assert.throws(() => html`<p>${{ name: 'x' }}</p>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_VALUE');
  assert.equal(render(html`<p>${new URL('https://a.example/?q=<')}</p>`), '<p>https://a.example/?q=%3C</p>');
  assert.equal(render(html`<p>${12n}</p>`), '<p>12</p>');
  assert.throws(() => html`<p>${Promise.resolve(1)}</p>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_VALUE');
  assert.throws(() => html`<p>${() => 1}</p>`, (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_VALUE');
});

test('html must be used as a tag, and SafeHtml cannot be minted from outside', () => {
  const fake = Object.assign(['<p>', '</p>'], { raw: ['<p>', '</p>'] }) as unknown as TemplateStringsArray;
  assert.throws(() => html(fake, '<x>'), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_NOT_TEMPLATE');
  assert.throws(() => new SafeHtml(Symbol('x'), '<script>'), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_VIEW_SAFE_HTML');
  assert.equal(SafeHtml.is({ toString: () => '<script>' }), false);
  assert.equal(SafeHtml.is(html`x`), true);
});
