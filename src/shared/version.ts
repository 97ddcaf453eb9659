/** Losscape's version, recorded in every result (kept equal to package.json's by a unit test). */
export const LOSSCAPE_VERSION = '0.1.0';
