import { escapeValue, html, httpUrl, join, raw, SafeHtml } from './html';

describe('html tagged template', () => {
  it('escapes every interpolated string for text and quoted attributes', () => {
    const evil = `<script>alert("x")</script> & 'quotes'`;
    const out = html`<p title="${evil}">${evil}</p>`.toString();
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p>',
    );
    expect(out).not.toContain('<script>');
  });

  it('inserts fragments it produced itself without escaping them again', () => {
    const inner = html`<em>${'a & b'}</em>`;
    expect(html`<p>${inner}</p>`.toString()).toBe('<p><em>a &amp; b</em></p>');
    expect(html`<div>${html`<p>${html`<b>${'<i>'}</b>`}</p>`}</div>`.toString()).toBe('<div><p><b>&lt;i&gt;</b></p></div>');
  });

  it('does not trust look-alike objects or strings that contain markup', () => {
    const fake = { toString: () => '<b>bold</b>' } as unknown as string;
    expect(html`${fake}`.toString()).toBe('&lt;b&gt;bold&lt;/b&gt;');
    expect(html`${'<b>bold</b>'}`.toString()).toBe('&lt;b&gt;bold&lt;/b&gt;');
  });

  it('joins arrays, escaping plain items and keeping fragments, at any depth', () => {
    const items = ['<a>', html`<li>${'x&y'}</li>`, ['<nested>', html`<br>`]];
    expect(html`<ul>${items}</ul>`.toString()).toBe('<ul>&lt;a&gt;<li>x&amp;y</li>&lt;nested&gt;<br></ul>');
  });

  it('renders nothing for null, undefined, false and empty arrays, and numbers as text', () => {
    const missing: string | undefined = undefined;
    expect(html`[${null}${missing}${false}${[]}${0}${42}]`.toString()).toBe('[042]');
    expect(html`${false && html`<b>hidden</b>`}`.toString()).toBe('');
  });

  it('marks our own constants as HTML with raw()', () => {
    const out = html`<style>${raw('a>b{color:red}')}</style>`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(out.toString()).toBe('<style>a>b{color:red}</style>');
  });

  it('escapes the separator of join() unless it is a fragment', () => {
    expect(join(['a', 'b'], ' & ').toString()).toBe('a &amp; b');
    expect(join(['<a>', 'b'], html`<br>`).toString()).toBe('&lt;a&gt;<br>b');
    expect(escapeValue(['x', html`<hr>`])).toBe('x<hr>');
  });
});

describe('httpUrl', () => {
  it('accepts absolute http and https URLs', () => {
    expect(httpUrl('https://example.com/a?b=1&c=2')).toBe('https://example.com/a?b=1&c=2');
    expect(httpUrl(' http://example.com ')).toBe('http://example.com/');
  });

  it.each([
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,<b>x</b>',
    'vbscript:x',
    'ftp://example.com/',
    '/relative',
    '//example.com/x',
    '',
    'not a url',
  ])('refuses %p', (value) => {
    expect(httpUrl(value)).toBeNull();
  });

  it('refuses null and undefined', () => {
    expect(httpUrl(null)).toBeNull();
    expect(httpUrl(undefined)).toBeNull();
  });
});
