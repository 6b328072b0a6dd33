/** The site's icon: a serif "B" on the masthead's ink. SVG for modern browsers, a real ICO for /favicon.ico. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="5" fill="#221f1a"/><text x="16" y="24" font-family="Georgia,serif" font-size="22" font-weight="700" text-anchor="middle" fill="#fbf7ee">B</text></svg>
`;

/** 16×16 glyph, `#` is paper-coloured, `.` is ink. */
const GLYPH = [
  '................',
  '................',
  '...#########....',
  '....##.....##...',
  '....##......##..',
  '....##......##..',
  '....##.....##...',
  '....########....',
  '....##.....###..',
  '....##......##..',
  '....##......##..',
  '....##......##..',
  '....##.....###..',
  '...##########...',
  '................',
  '................',
];

let cached: Buffer | null = null;

/** A 16×16 32-bit ICO (one BMP image), built once. */
export function faviconIco(): Buffer {
  if (cached) return cached;
  const size = 16;
  const pixels = Buffer.alloc(size * size * 4);
  // BMP rows go bottom-up, pixels are BGRA.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = GLYPH[size - 1 - y][x] === '#';
      const [r, g, b] = on ? [0xfb, 0xf7, 0xee] : [0x22, 0x1f, 0x1a];
      pixels.set([b, g, r, 0xff], (y * size + x) * 4);
    }
  }
  const mask = Buffer.alloc(size * 4); // 1 bit per pixel, rows padded to 32 bits: all opaque
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // colour + mask
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([header, pixels, mask]);
  const dir = Buffer.alloc(6 + 16);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2); // icon
  dir.writeUInt16LE(1, 4); // one image
  dir.writeUInt8(size, 6);
  dir.writeUInt8(size, 7);
  dir.writeUInt16LE(1, 10);
  dir.writeUInt16LE(32, 12);
  dir.writeUInt32LE(image.length, 14);
  dir.writeUInt32LE(22, 18);
  cached = Buffer.concat([dir, image]);
  return cached;
}
