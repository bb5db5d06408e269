/** Password generation that runs the same on Node and Workers (Web Crypto only). */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random password of `length` characters (default 32, ~185 bits), without look-alike characters. */
export function generatePassword(length = 32): string {
  const out: string[] = [];
  const limit = 256 - (256 % ALPHABET.length); // reject bytes that would bias the choice
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out.push(ALPHABET[b % ALPHABET.length]!);
    }
  }
  return out.join('');
}
