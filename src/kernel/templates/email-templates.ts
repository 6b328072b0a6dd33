import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';
import { projectRoot } from './project-root';

/**
 * Email templates live in `templates/`: `emails/<name>.mjml` (Handlebars, HTML-escaped, then compiled by
 * MJML in strict mode), `emails/<name>.txt` (Handlebars, the plain-text part), `partials/*.mjml` and
 * `layouts/*.mjml` (registered as partials by file stem). Handlebars runs first, so no `{{…}}` reaches MJML.
 */
export class EmailTemplates {
  private readonly hbs = Handlebars.create();
  private readonly html = new Map<string, Handlebars.TemplateDelegate>();
  private readonly text = new Map<string, Handlebars.TemplateDelegate>();

  constructor(readonly dir: string = join(projectRoot(), 'templates')) {
    for (const folder of ['layouts', 'partials']) {
      for (const file of readdirSync(join(dir, folder)).filter((f) => f.endsWith('.mjml'))) {
        this.hbs.registerPartial(file.replace(/\.mjml$/, ''), readFileSync(join(dir, folder, file), 'utf8'));
      }
    }
    for (const file of readdirSync(join(dir, 'emails'))) {
      const source = readFileSync(join(dir, 'emails', file), 'utf8');
      if (file.endsWith('.mjml')) this.html.set(file.replace(/\.mjml$/, ''), this.hbs.compile(source, { strict: true }));
      if (file.endsWith('.txt')) this.text.set(file.replace(/\.txt$/, ''), this.hbs.compile(source, { strict: true, noEscape: true }));
    }
  }

  /** Renders both parts of an email. Throws on a template error (MJML strict validation). */
  async render(name: string, data: object): Promise<{ html: string; text: string }> {
    const html = this.html.get(name);
    const text = this.text.get(name);
    if (!html || !text) throw new Error(`no email template "${name}" (need emails/${name}.mjml and emails/${name}.txt)`);
    const result = await mjml2html(html(data), { validationLevel: 'strict', keepComments: false });
    // MJML indents its output; newline-and-indent runs between tags carry no meaning and cost ~15% of the bytes
    // (mjml's own minifier needs Node 22). Same-line spaces, which can be visible, are kept.
    const compact = result.html.replace(/>[ \t]*\n\s*</g, '><');
    return { html: compact, text: text(data).replace(/\n{3,}/g, '\n\n').trim() + '\n' };
  }
}
