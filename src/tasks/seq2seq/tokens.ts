// How one side of a pair becomes tokens: 'chars' (each code point is a token) or 'words' (tokens are
// separated by runs of white space, which is not itself a token).
export type TokenUnit = 'chars' | 'words';
export const TOKEN_UNITS: readonly TokenUnit[] = ['chars', 'words'];

export function tokenize(text: string, unit: TokenUnit): string[] {
  return unit === 'chars' ? [...text] : text.split(/\s+/u).filter((token) => token !== '');
}

export function detokenize(tokens: readonly string[], unit: TokenUnit): string {
  return tokens.join(unit === 'chars' ? '' : ' ');
}
