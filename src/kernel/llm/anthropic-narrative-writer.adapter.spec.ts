import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '../config/config';
import { DEFAULT_JUDGE_MODEL, DEFAULT_WRITER_MODEL } from './anthropic-narrative-writer.adapter';
import { parseNarrativeAnswer, toParagraphs } from './anthropic-narrative-writer.adapter';
import { WriterError } from './narrative-writer.port';

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
