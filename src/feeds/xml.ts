/**
 * The few XML primitives the feed writer needs. Written here because both feed 6 and the xml-js it wraps get
 * escaping wrong for hostile text: xml-js collapses a literal `&amp;` to `&` in text and leaves `<` and `&` raw in
 * attributes, and feed 6 splits only the first `]]>` of a CDATA section. Every value goes through `escapeXml`;
 * nothing is ever written as CDATA, so there is no `]]>` problem at all.
 */

/** Characters XML 1.0 forbids anywhere (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). */
const XML_INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function stripXmlInvalid(text: string): string {
  return text.replace(XML_INVALID, '');
}

/** Escapes text for an XML text node or a double-quoted attribute, dropping characters XML cannot carry. */
export function escapeXml(text: string): string {
  return stripXmlInvalid(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export type Attributes = Record<string, string | undefined>;

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');
}

/** `<name attrs>text</name>`, the text escaped. */
export function textElement(name: string, text: string, attrs: Attributes = {}): string {
  return `<${name}${attributes(attrs)}>${escapeXml(text)}</${name}>`;
}

/** `<name attrs/>`. */
export function emptyElement(name: string, attrs: Attributes): string {
  return `<${name}${attributes(attrs)}/>`;
}

/** `<name attrs>` children `</name>`; children are already-serialised elements, one per line. */
export function element(name: string, children: ReadonlyArray<string | null | undefined | false>, attrs: Attributes = {}): string {
  const inner = children.filter((c): c is string => typeof c === 'string' && c !== '');
  return `<${name}${attributes(attrs)}>\n${inner.join('\n')}\n</${name}>`;
}
