/**
 * Removes the boilerplate that platforms' feeds wrap around what people wrote: hnrss's "Article URL / Comments
 * URL / Points / # Comments" lines and Reddit's "submitted by /u/x [link] [comments]" tail.
 */
export function stripPlatformBoilerplate(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*((Article|Comments) URL: \S+|Points: \d+|# Comments: \d+)\s*$/.test(line))
    .join('\n')
    .replace(/\s*submitted by\s+(&#32;\s*)?\/u\/\S+\s*(\[link\])?\s*(\[comments\])?\s*$/i, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
