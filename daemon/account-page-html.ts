/**
 * The HTML of the daemon's built-in account pages (daemon/routes/account-pages.ts): one layout,
 * a few building blocks, and their one stylesheet. Everything interpolated is escaped by the
 * `html` tag unless it is already markup the tag made, so no caller escapes by hand.
 */

/** Markup made by the `html` tag: interpolated as is. Anything else is text, escaped. */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup
  }
}

type HtmlValue = string | number | SafeHtml | null | undefined | readonly HtmlValue[]

/** A template of markup whose interpolated values are escaped (arrays joined, null and undefined empty). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let markup = strings[0] ?? ''
  values.forEach((value, index) => {
    markup += toMarkup(value) + (strings[index + 1] ?? '')
  })
  return new SafeHtml(markup)
}

function toMarkup(value: HtmlValue): string {
  if (value === null || value === undefined) return ''
  if (value instanceof SafeHtml) return value.markup
  if (Array.isArray(value)) return value.map((item: HtmlValue) => toMarkup(item)).join('')
  return escapeHtml(String(value))
}

/** Text as HTML text or attribute value (double or single quoted). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** The stylesheet's path (under public_url's path, as the pages are). */
export const ACCOUNT_PAGES_STYLESHEET = '/account-pages.css'

/** A file, not an inline <style>: the pages' Content-Security-Policy allows styles from 'self' only. */
export const ACCOUNT_PAGES_CSS = `:root { color-scheme: light dark; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; line-height: 1.5; }
main { max-width: 26rem; margin: 4rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.4rem; margin-bottom: 1rem; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input[type=email], input[type=password], input[type=text] { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; }
button { margin-top: 1.25rem; padding: 0.55rem 1.1rem; font: inherit; font-weight: 600; cursor: pointer; }
.problem { border-left: 4px solid #c62828; padding: 0.25rem 0.75rem; }
.hint { font-size: 0.9rem; opacity: 0.8; }
`

/**
 * Every page: no script at all, its stylesheet from the daemon, nothing else loaded; no framing,
 * forms only to this origin; not indexed.
 */
export const ACCOUNT_PAGE_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface AccountPage {
  title: string
  /** The page's content below its heading. */
  content: SafeHtml
}

/** A whole page: the layout around the content, linking the stylesheet at its path. */
export function renderAccountPage(page: AccountPage, options: {stylesheet: string}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${page.title}</title>
<link rel="stylesheet" href="${options.stylesheet}">
</head>
<body>
<main>
<h1>${page.title}</h1>
${page.content}
</main>
</body>
</html>
`.markup
}

export function paragraph(text: string, className?: string): SafeHtml {
  return className ? html`<p class="${className}">${text}</p>` : html`<p>${text}</p>`
}

/** A problem with what was sent, shown above the form that is sent again. */
export function problemNote(text: string): SafeHtml {
  return html`<p class="problem" role="alert">${text}</p>`
}

export function link(href: string, text: string): SafeHtml {
  return html`<a href="${href}">${text}</a>`
}

export interface FormField {
  name: string
  label: string
  type: 'email' | 'password' | 'text'
  value?: string
  autocomplete: string
  minLength?: number
}

/** A form posted form-encoded to `action` (a path): hidden values (the link's token), visible fields and one button. */
export function postForm(options: {action: string; hidden?: Record<string, string>; fields?: FormField[]; submitLabel: string}): SafeHtml {
  const hidden = Object.entries(options.hidden ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)
  const fields = (options.fields ?? []).map(
    (field) =>
      html`<label for="${field.name}">${field.label}</label><input id="${field.name}" name="${field.name}" type="${field.type}" value="${field.value ?? ''}" autocomplete="${field.autocomplete}"${field.minLength ? html` minlength="${field.minLength}"` : ''} required>`,
  )
  return html`<form method="post" action="${options.action}">${hidden}${fields}<button type="submit">${options.submitLabel}</button></form>`
}
