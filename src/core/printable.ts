/**
 * Server-controlled text (names, error strings) reaches a terminal only escaped and capped: no
 * control character can move the cursor or rewrite what the user sees.
 */
export function printable(text: string, max = 300): string {
  const escaped = JSON.stringify(text)
    .slice(1, -1)
    // A quote is harmless on a terminal, and a message quoting a path (`ls -la "/x"`) must read as typed.
    // Pairs are taken left to right, so an escaped backslash before a quote stays escaped.
    .replace(/\\(.)/g, (pair, c: string) => (c === '"' ? '"' : pair))
    .replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
