/**
 * A static HTML page listing the operations of an OpenAPI document: no scripts, no external
 * assets, so it passes the strict Content-Security-Policy. The full document is linked.
 */
export function renderDocsPage(document: Record<string, unknown>, documentUrl = '/openapi.json'): string {
  const info = (document.info ?? {}) as {title?: string; version?: string}
  const paths = (document.paths ?? {}) as Record<string, Record<string, {summary?: string; description?: string; tags?: string[]; security?: unknown[]}>>
  const rows: string[] = []
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const lock = operation.security?.length ? ' <span title="requires an access token">🔒</span>' : ''
      rows.push(
        `<tr><td class="method">${escapeHtml(method.toUpperCase())}</td><td><code>${escapeHtml(path)}</code>${lock}</td><td>${escapeHtml(operation.summary ?? '')}${
          operation.description ? `<br><small>${escapeHtml(operation.description)}</small>` : ''
        }</td><td>${escapeHtml((operation.tags ?? []).join(', '))}</td></tr>`,
      )
    }
  }
  const title = `${info.title ?? 'API'} ${info.version ?? ''}`.trim()
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.method { font-weight: bold; font-family: monospace; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>The machine-readable OpenAPI 3.1 document: <a href="${escapeHtml(documentUrl)}">${escapeHtml(documentUrl)}</a>. JSON fields are snake_case; errors are <code>{"error": {"code", "message", "details"}, "request_id"}</code>.</p>
<table>
<thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Tags</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
