/**
 * Characters a name shown to people must not hold: C0 controls (U+0000–001F), DEL, C1
 * controls (U+0080–009F) and the bidi embeddings, overrides and isolates (U+202A–202E,
 * U+2066–2069), which can rewrite a terminal line or make a name read as another.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters (C0/C1, DEL or bidi overrides)'

/** Whether the text is free of CONTROL_CHARACTERS. */
export function hasNoControlCharacters(text: string): boolean {
  return !CONTROL_CHARACTERS.test(text)
}

// C0 and C1 controls, DEL and the bidi embeddings, overrides and isolates: a name holding
// them (stored before names refused them, or by another writer) could move the cursor,
// recolour or rewrite the terminal, or reorder the line. Shown as \u escapes instead.
const ALL_CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTERS.source, 'g')

/** The text with every control character written as a visible `\uXXXX` escape. */
export function escapeControlCharacters(text: string): string {
  return text.replace(ALL_CONTROL_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
