import { loadConfig } from '../config/config';
import { DEFAULT_JUDGE_MODEL, DEFAULT_WRITER_MODEL } from './anthropic-narrative-writer.adapter';
import { toParagraphs } from './anthropic-narrative-writer.adapter';

const cite = (start: number, end: number, documentIndex = 0) => ({
  type: 'content_block_location' as const, cited_text: 'x', document_index: documentIndex, document_title: null, start_block_index: start, end_block_index: end,
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
    const content = [{ type: 'tool_use', id: 't', name: 'x', input: {} }, { type: 'text', text: 'Hello', citations: [cite(0, 1, 1)] }] as never;
    expect(toParagraphs(content, 5)).toEqual([[{ text: 'Hello', sources: [] }]]);
  });
});

describe('default models', () => {
  it('are ids the SDK knows (checked by the type), and config uses them', () => {
    const config = loadConfig({});
    expect(config.anthropic.model).toBe(DEFAULT_WRITER_MODEL);
    expect(config.anthropic.judgeModel).toBe(DEFAULT_JUDGE_MODEL);
  });
});
