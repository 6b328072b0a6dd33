import { checkInboxPage, subscribePage, unsubscribePromptPage } from './subscription-pages';
import { type SiteInfo } from './views';

const site: SiteInfo = { title: 'Broadsheet', description: 'Cited stories & more.', publicUrl: 'https://news.test' };

describe('subscription pages', () => {
  it('shows the problem and the typed address, escaped', () => {
    const page = subscribePage(site, { email: `"><script>x</script>`, problem: 'Please enter a valid email address.' }).toString();
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(page).toContain('Please enter a valid email address.');
    expect(page).not.toContain('<script>');
  });

  it('puts the unsubscribe token in a hidden field of a POST form', () => {
    const page = unsubscribePromptPage(site, 'tok"en<').toString();
    expect(page).toContain('<form method="post" action="/unsubscribe">');
    expect(page).toContain('<input type="hidden" name="token" value="tok&quot;en&lt;">');
    expect(page).toContain('<meta name="robots" content="noindex">');
  });

  it('escapes the address on the check-your-inbox page', () => {
    expect(checkInboxPage(site, '<b>@x.test').toString()).toContain('<strong>&lt;b&gt;@x.test</strong>');
  });
});
