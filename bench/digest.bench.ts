import { performance } from 'node:perf_hooks';
import { personalise, renderDigest } from '../src/delivery/digest-renderer';
import { loadConfig } from '../src/kernel/config/config';
import { EmailTemplates } from '../src/kernel/templates/email-templates';
import { buildIssueView, buildNarrativeView } from '../test/factories/narrative.factory';

/** Render once, personalise per recipient (DESIGN invariant 3): how long each takes for a 9-story issue. */
it('digest rendering and personalisation', async () => {
  const config = loadConfig({ PUBLIC_URL: 'https://news.example.com' });
  const templates = new EmailTemplates();
  const issue = buildIssueView(Array.from({ length: 9 }, () => buildNarrativeView({}, 6)));
  await renderDigest(issue, templates, config); // warm-up

  const renders: number[] = [];
  let digest = await renderDigest(issue, templates, config);
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    digest = await renderDigest(issue, templates, config);
    renders.push(performance.now() - t0);
  }
  renders.sort((a, b) => a - b);

  const recipients = 10_000;
  const t1 = performance.now();
  let bytes = 0;
  for (let i = 0; i < recipients; i++) {
    const out = personalise(digest, `https://news.example.com/unsubscribe?token=${i.toString(36).padStart(40, 'x')}.${'s'.repeat(43)}`);
    bytes += out.html.length;
  }
  const personaliseMs = performance.now() - t1;

  const figures = {
    'digest HTML bytes': Buffer.byteLength(digest.html),
    'digest text bytes': Buffer.byteLength(digest.text),
    'render median ms (MJML, 9 stories)': Number(renders[10].toFixed(1)),
    'render p95 ms': Number(renders[18].toFixed(1)),
    [`personalise ${recipients} recipients ms`]: Math.round(personaliseMs),
    'personalise per recipient µs': Number(((personaliseMs * 1000) / recipients).toFixed(1)),
    'heap used MB': Math.round(process.memoryUsage().heapUsed / 1e6),
  };
  console.log(JSON.stringify(figures, null, 2));
  expect(bytes).toBeGreaterThan(0);
});
