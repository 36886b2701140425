import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { parseAllDocuments } from 'yaml';
import { UserError } from '../errors.js';
import { OVERRIDES_DIR } from '../scaffold-dir.js';

export const BUILTIN_TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

const handlebars = Handlebars.create();
handlebars.registerHelper('json', (value: unknown) => JSON.stringify(value));
handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
handlebars.registerHelper('upper', (value: string) => value.toUpperCase());

export interface RenderedFile {
  /** Output path relative to the template group, ".hbs" dropped, "_x" segments as ".x". */
  path: string;
  content: string;
}

/**
 * Renders templates from the built-in set, each replaced by the project's override of the
 * same relative path when there is one. Templates stay dumb: the context carries every
 * decision.
 */
export class TemplateRenderer {
  readonly #overridesRoot: string | undefined;
  readonly #compiled = new Map<string, Handlebars.TemplateDelegate>();

  constructor(projectDir?: string) {
    this.#overridesRoot = projectDir ? path.join(projectDir, OVERRIDES_DIR) : undefined;
  }

  /**
   * Every template under `group` (e.g. "service/common"), rendered with `context`. `from`
   * is where the group's built-in templates are when not under templates/ (a pattern's
   * folder); `slots` fills the templates' `{{#> slot}}` partials (see `slotsIn`).
   */
  renderGroup(group: string, context: object, options: RenderOptions = {}): RenderedFile[] {
    const groupDir = options.from ?? path.join(BUILTIN_TEMPLATES, group);
    if (!existsSync(groupDir)) return [];
    return listFiles(groupDir).map((relative) => ({
      path: outputPath(relative),
      content: this.render(`${group}/${relative}`, context, { ...options, from: path.join(groupDir, relative) }),
    }));
  }

  /** One template by its path under templates/ (or, with `from`, the file it is built in as). */
  render(templatePath: string, context: object, options: RenderOptions = {}): string {
    const source = this.#source(templatePath, options.from);
    if (!templatePath.endsWith('.hbs')) return source.text;
    let content: string;
    try {
      content = this.#compile(source)(context, { partials: options.slots });
    } catch (error) {
      // strict mode names the context it searched as "[object Object]": no help to anyone
      const message = (error as Error).message.split('\n')[0]!.replace(/ in \[object Object\]/, '');
      throw new UserError(`cannot render ${source.file}: ${message}`);
    }
    checkSyntax(outputPath(templatePath), content, source.file);
    return content;
  }

  /** The partials in `dir` (one `<name>.hbs` each), by name; a project overrides them
   * under `.scaffold/templates/<group>/`. */
  slotsIn(group: string, dir: string | undefined): Record<string, Handlebars.TemplateDelegate> {
    if (!dir || !existsSync(dir)) return {};
    return Object.fromEntries(
      listFiles(dir).map((file) => [file.replace(/\.hbs$/, ''), this.#compile(this.#source(`${group}/${file}`, path.join(dir, file)))]),
    );
  }

  #compile(source: { file: string; text: string }): Handlebars.TemplateDelegate {
    let template = this.#compiled.get(source.file);
    if (!template) {
      template = handlebars.compile(source.text, { noEscape: true, strict: true });
      this.#compiled.set(source.file, template);
    }
    return template;
  }

  #source(templatePath: string, builtin = path.join(BUILTIN_TEMPLATES, templatePath)): { file: string; text: string } {
    const override = this.#overridesRoot && path.join(this.#overridesRoot, templatePath);
    const file = override && existsSync(override) ? override : builtin;
    if (statSync(file).isDirectory()) throw new UserError(`${file} is a folder: a template override is a file of the same path as the built-in one`);
    return { file, text: readFileSync(file, 'utf8') };
  }
}

export interface RenderOptions {
  from?: string;
  slots?: Record<string, Handlebars.TemplateDelegate>;
}

/** A template that renders broken JSON or YAML (usually an override) stops the run before
 * anything is written. */
function checkSyntax(output: string, content: string, templateFile: string): void {
  let problem: string | undefined;
  if (output.endsWith('.json')) {
    try {
      JSON.parse(content);
    } catch (error) {
      problem = (error as Error).message;
    }
  } else if (/\.ya?ml$/.test(output)) {
    const broken = parseAllDocuments(content, { prettyErrors: false })
      .flatMap((document) => ('errors' in document ? document.errors : []))
      .at(0);
    problem = broken?.message.split('\n')[0];
  }
  if (problem) throw new UserError(`${templateFile} renders invalid ${path.extname(output).slice(1).toUpperCase()}: ${problem}`);
}

function outputPath(templatePath: string): string {
  return templatePath
    .replace(/\.hbs$/, '')
    .split('/')
    .map((segment) => (segment.startsWith('_') ? `.${segment.slice(1)}` : segment))
    .join('/');
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}
