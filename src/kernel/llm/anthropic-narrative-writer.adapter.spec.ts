import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config/config';
import { AnthropicNarrativeWriter, DEFAULT_JUDGE_MODEL, DEFAULT_WRITER_MODEL } from './anthropic-narrative-writer.adapter';
import { parseNarrativeAnswer, toParagraphs } from './anthropic-narrative-writer.adapter';
import { WriterError, documentText } from './narrative-writer.port';

const cite = (start: number, end: number, documentIndex = 0) => ({
  type: 'content_block_location' as const,
  cited_text: 'x',
  document_index: documentIndex,
  document_title: null,
  start_block_index: start,
  end_block_index: end,
});

describe('toParagraphs', () => {
  it('maps content_block_location citations to document indices and splits paragraphs on blank lines', () => {
    const content = [
      { type: 'text', text: 'The thread began with a release. ', citations: null },
      { type: 'text', text: 'Quillfeather shipped Larchmont-70B', citations: [cite(0, 1)] },
      { type: 'text', text: ', and critics disagreed.\n\nOn Bluesky, ', citations: null },
      { type: 'text', text: 'users mocked clause 7', citations: [cite(2, 4), cite(9, 12)] },
      { type: 'text', text: '.', citations: null },
    ] as never;
    expect(toParagraphs(content, 10)).toEqual([
      [
        { text: 'The thread began with a release. ', sources: [] },
        { text: 'Quillfeather shipped Larchmont-70B', sources: [0] },
        { text: ', and critics disagreed.', sources: [] },
      ],
      [
        { text: 'On Bluesky, ', sources: [] },
        { text: 'users mocked clause 7', sources: [2, 3, 9] },
        { text: '.', sources: [] },
      ],
    ]);
  });

  it('ignores citations of other documents and non-text blocks', () => {
    const content = [
      { type: 'tool_use', id: 't', name: 'x', input: {} },
      { type: 'text', text: 'Hello', citations: [cite(0, 1, 1)] },
    ] as never;
    expect(toParagraphs(content, 5)).toEqual([[{ text: 'Hello', sources: [] }]]);
  });
});

/** The SDK's own list of model ids: its `Model` union, as published in the installed package. */
const sdkRoot = dirname(require.resolve('@anthropic-ai/sdk'));
function sdkKnownModels(): string[] {
  const root = sdkRoot;
  const types = readFileSync(join(root, 'resources', 'messages', 'messages.d.ts'), 'utf8');
  const union = /export type Model = ([^;]+);/.exec(types)?.[1] ?? '';
  return [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

describe('default models', () => {
  it('are in the installed SDK’s list of known models, and not deprecated', () => {
    const known = sdkKnownModels();
    expect(known.length).toBeGreaterThan(5);
    const config = loadConfig({});
    expect(known).toContain(config.anthropic.model);
    expect(known).toContain(config.anthropic.judgeModel);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DEPRECATED_MODELS } = require(join(sdkRoot, 'internal', 'data.js')) as { DEPRECATED_MODELS: Record<string, string> };
    expect(Object.keys(DEPRECATED_MODELS)).not.toContain(config.anthropic.model);
    expect(Object.keys(DEPRECATED_MODELS)).not.toContain(config.anthropic.judgeModel);
  });

  it('are ids the SDK knows (checked by the type), and config uses them', () => {
    const config = loadConfig({});
    expect(config.anthropic.model).toBe(DEFAULT_WRITER_MODEL);
    expect(config.anthropic.judgeModel).toBe(DEFAULT_JUDGE_MODEL);
  });
});

describe('parseNarrativeAnswer', () => {
  const brief = {
    beat: { name: 'b', description: 'd' },
    topic: 't',
    documents: [1, 2, 3].map((n) => ({ platform: 'reddit', author: `a${n}`, title: '', text: `t${n}`, url: 'https://x.example/', publishedAt: new Date(0) })),
  };
  const message = (content: unknown[], stop_reason = 'end_turn') =>
    ({
      model: 'claude-sonnet-5-5',
      stop_reason,
      content,
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 2, cache_creation_input_tokens: 0 },
    }) as never;

  it('takes the headline and dek lines, even split across blocks, and keeps the citations of the body', () => {
    const draft = parseNarrativeAnswer(
      message([
        { type: 'text', text: 'Headline: Quillfeather ships a model\nDe', citations: null },
        { type: 'text', text: 'k: Developers argue about the licence.\n\nOn Reddit, ', citations: null },
        { type: 'text', text: 'a1 liked it', citations: [cite(0, 1)] },
        { type: 'text', text: '.', citations: null },
      ]),
      brief,
    );
    expect(draft).toMatchObject({ headline: 'Quillfeather ships a model', dek: 'Developers argue about the licence.', writer: 'claude' });
    expect(draft.paragraphs).toEqual([
      [
        { text: 'On Reddit, ', sources: [] },
        { text: 'a1 liked it', sources: [0] },
        { text: '.', sources: [] },
      ],
    ]);
    expect(draft.usage).toEqual({ inputTokens: 10, outputTokens: 5, cacheReadTokens: 2, cacheWriteTokens: 0 });
  });

  it('refuses an answer without the labelled lines, or cut at the token limit (never half-saved)', () => {
    expect(() => parseNarrativeAnswer(message([{ type: 'text', text: 'Just a story.', citations: null }]), brief)).toThrow(WriterError);
    expect(() => parseNarrativeAnswer(message([{ type: 'text', text: 'Headline: H\nDek: D\n\nA story that', citations: null }], 'max_tokens'), brief)).toThrow(
      /token limit/,
    );
    expect(() => parseNarrativeAnswer(message([{ type: 'text', text: 'Headline: H\nDek: D\n\n', citations: null }]), brief)).toThrow(/no narrative text/);
  });
});

describe('what each narrative request repeats (issue 8: billed tokens)', () => {
  const at = new Date('2026-11-18T09:00:00Z');
  const record = (title: string, author: string, text = 'Twenty wrong.') => ({
    platform: 'hackernews',
    author,
    title,
    text,
    url: 'https://x.test',
    publishedAt: at,
  });

  it('shows a reply whose title only repeats its author as `[… · reply] <thread>`, and keeps any other title as it is', () => {
    expect(documentText(record('New comment by brackish in "Harwick\'s chatbot gave wrong answers"', 'brackish'))).toBe(
      "[hackernews · brackish · 2026-11-18 · reply] Harwick's chatbot gave wrong answers — Twenty wrong.",
    );
    expect(documentText({ ...record('/u/quietparity on PSA: read clause 4(b)', '/u/quietparity'), platform: 'reddit' })).toBe(
      '[reddit · /u/quietparity · 2026-11-18 · reply] PSA: read clause 4(b) — Twenty wrong.',
    );
    // Another name in the title is information, not repetition: kept whole.
    expect(documentText(record('New comment by someone_else in "Thread"', 'brackish'))).toContain('New comment by someone_else in "Thread"');
    expect(documentText(record('Calder passes its AI bill', 'palimpsest', ''))).toBe('[hackernews · palimpsest · 2026-11-18] Calder passes its AI bill');
  });

  it('says what the records are and how they are labelled once, in the cached system prompt, not in every request', () => {
    const writer = new AnthropicNarrativeWriter({ apiKey: 'k', model: DEFAULT_WRITER_MODEL, maxRetries: 0 });
    const brief = { beat: { name: 'AI policy', description: 'Laws and regulators.' }, topic: 'bill 114', documents: [record('T', 'a')] };
    const params = writer.request(brief);
    const system = (params.system as Array<{ text: string; cache_control?: unknown }>)[0];
    expect(system.cache_control).toEqual({ type: 'ephemeral' });
    expect(system.text).toMatch(/in square brackets, with the post's platform, its outlet or author, and its date/);
    expect(system.text).toMatch(/a block labelled "reply" is a reply, and its title is the title of the thread it answers/);
    const content = params.messages[0].content as Array<{ type: string; text?: string; context?: string }>;
    expect(content[0].context).toBe('Beat: AI policy (Laws and regulators.)');
    expect(content[1].text).toBe('Write the story: "Headline:", "Dek:", then the paragraphs.');
    const continued = writer.request({ ...brief, previous: { headline: 'Bill "114" clears committee', dek: 'd' } }).messages[0].content as typeof content;
    expect(continued[1].text).toContain("It continues last week's story (\"Bill '114' clears committee\")");
  });
});
