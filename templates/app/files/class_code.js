// A class's code as the receiver makes it (builder/receiver/classes.py): 7 characters of an
// alphabet without 0/O and 1/I/L, which a student would mistype from the board.
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 7;

// The code as the receiver stores it, however it was typed (any case, spaces and dashes), or null
// when `text` is no code.
export function readClassCode(text) {
  const code = String(text ?? "")
    .replace(/[\s-]+/g, "")
    .toUpperCase();
  const valid = code.length === CODE_LENGTH && [...code].every((char) => CODE_ALPHABET.includes(char));
  return valid ? code : null;
}
