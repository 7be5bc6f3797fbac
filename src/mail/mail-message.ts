/**
 * A mail as features compose it: one kind (the template it came from), one recipient, a text
 * and an HTML body. Features build theirs with composeMail and hand it to the outbox inside
 * the transaction of the change that causes it.
 */
export interface MailMessage {
  /** e.g. verify_email, password_reset, account_locked: shown by `mail list`. */
  kind: string
  to: string
  /** The user it concerns, if any (for `mail list` and purges). */
  userId: string | null
  subject: string
  text: string
  html: string
}

export interface MailContent {
  kind: string
  to: string
  userId?: string | null
  subject: string
  /** Plain sentences; escaped for HTML here, never by callers. */
  paragraphs: string[]
  /** A button in HTML, a bare line in text. */
  action?: {label: string; url: string}
}

/** The text and HTML bodies of a mail from its paragraphs and its one action link. */
export function composeMail(content: MailContent): MailMessage {
  const textParts = [...content.paragraphs]
  const htmlParts = content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`)
  if (content.action) {
    textParts.push(`${content.action.label}: ${content.action.url}`)
    htmlParts.push(`<p><a href="${escapeHtml(content.action.url)}">${escapeHtml(content.action.label)}</a></p>`, `<p style="color:#666;font-size:12px">${escapeHtml(content.action.url)}</p>`)
  }
  return {
    kind: content.kind,
    to: content.to,
    userId: content.userId ?? null,
    subject: content.subject,
    text: `${textParts.join('\n\n')}\n`,
    html: `<!doctype html><html><body style="font-family:sans-serif">${htmlParts.join('')}</body></html>`,
  }
}

/** A link into the product: public_url + path, with the query parameters URL-encoded. */
export function linkTo(publicUrl: string, path: string, query: Record<string, string> = {}): string {
  const url = new URL(path.replace(/^\/+/, ''), publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`)
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
  return url.toString()
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
