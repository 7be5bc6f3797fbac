/**
 * Just enough MIME reading for tests of what arrived at the SMTP sink: unfolded headers, RFC 2047
 * encoded words, multipart bodies and the quoted-printable and base64 transfer encodings (so a
 * link soft-wrapped by quoted-printable reads whole again). No package for this is installed,
 * and the tests only read mails that nodemailer wrote.
 */
export interface MimePart {
  /** Header names lower-cased; a repeated header keeps its first value. */
  headers: Record<string, string>
  /** The decoded body of a single part ('' for a multipart). */
  body: string
  parts: MimePart[]
}

export function readMime(raw: string): MimePart {
  const normalized = raw.replace(/\r\n/g, '\n')
  const split = normalized.indexOf('\n\n')
  const headerText = split === -1 ? normalized : normalized.slice(0, split)
  const bodyText = split === -1 ? '' : normalized.slice(split + 2)
  const headers = readHeaders(headerText)
  const contentType = headers['content-type'] ?? 'text/plain'
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  if (/^multipart\//i.test(contentType) && boundary) {
    const parts = bodyText
      .split(`--${boundary}`)
      .slice(1)
      .filter((chunk) => !chunk.startsWith('--'))
      .map((chunk) => readMime(chunk.replace(/^\n/, '').replace(/\n$/, '')))
    return {headers, body: '', parts}
  }
  return {headers, body: decodeBody(bodyText, headers['content-transfer-encoding'] ?? '7bit'), parts: []}
}

/** The first part (depth first) whose content type starts with `type`, e.g. 'text/plain'. */
export function findPart(part: MimePart, type: string): MimePart | null {
  if (part.parts.length === 0) return (part.headers['content-type'] ?? 'text/plain').toLowerCase().startsWith(type) ? part : null
  for (const child of part.parts) {
    const found = findPart(child, type)
    if (found) return found
  }
  return null
}

function readHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of text.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!(name in headers)) headers[name] = decodeEncodedWords(line.slice(colon + 1).trim())
  }
  return headers
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bqBQ])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    )
}

function decodeBody(text: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(text.replace(/=\n/g, ''))
    case 'base64':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8')
    default:
      return text
  }
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = []
  for (let index = 0; index < text.length; index++) {
    const hex = text.slice(index + 1, index + 3)
    if (text[index] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      index += 2
    } else {
      bytes.push(...Buffer.from(text[index]!, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}
