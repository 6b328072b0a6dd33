import { personalise, UNSUBSCRIBE_SENTINEL } from './digest-renderer';
import { backoffMs } from './delivery-engine';

describe('personalise', () => {
  it('puts the recipient link in every place, escaped for HTML attributes and raw in text', () => {
    const digest = { html: `<a href="${UNSUBSCRIBE_SENTINEL}">x</a><a href="${UNSUBSCRIBE_SENTINEL}">y</a>`, text: `Unsubscribe: ${UNSUBSCRIBE_SENTINEL}` };
    const out = personalise(digest, 'https://news.example.com/unsubscribe?token=a"b&c');
    expect(out.html).toBe(
      '<a href="https://news.example.com/unsubscribe?token=a&quot;b&amp;c">x</a><a href="https://news.example.com/unsubscribe?token=a&quot;b&amp;c">y</a>',
    );
    expect(out.text).toBe('Unsubscribe: https://news.example.com/unsubscribe?token=a"b&c');
  });
});

describe('backoffMs', () => {
  it('grows exponentially with jitter and is capped', () => {
    expect(backoffMs(1, () => 0)).toBe(1_000);
    expect(backoffMs(1, () => 1)).toBe(2_000);
    expect(backoffMs(3, () => 1)).toBe(8_000);
    expect(backoffMs(30, () => 1)).toBe(600_000);
  });
});
