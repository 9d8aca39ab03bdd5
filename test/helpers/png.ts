/**
 * A minimal PNG decoder for tests (no dependency): 8-bit greyscale, RGB, RGBA and palette images,
 * non-interlaced, which covers what ImageMagick writes for an X screen. Returns RGB per pixel so
 * tests can compare screenshots pixel by pixel.
 */
import { inflateSync } from "node:zlib";

export interface DecodedPng {
  width: number;
  height: number;
  /** width*height*3 bytes, row-major RGB. */
  rgb: Buffer;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Bytes per pixel by colour type (8-bit depth): 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

export function decodePng(png: Buffer): DecodedPng {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error("not a PNG");
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette = Buffer.alloc(0);
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      colorType = data[9] ?? -1;
      if (depth !== 8 || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth}, interlace ${data[12]}`);
    } else if (type === "PLTE") palette = Buffer.from(data);
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  const bpp = CHANNELS[colorType];
  if (bpp === undefined) throw new Error(`unsupported PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? (pixels[y * stride + x - bpp] ?? 0) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] ?? 0) : 0;
      const c = x >= bpp && y > 0 ? (pixels[(y - 1) * stride + x - bpp] ?? 0) : 0;
      const value = line[x] ?? 0;
      const predictor = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : 0;
      pixels[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (colorType === 3) {
      const index = pixels[i] ?? 0;
      palette.copy(rgb, i * 3, index * 3, index * 3 + 3);
    } else if (colorType === 0 || colorType === 4) {
      const grey = pixels[i * bpp] ?? 0;
      rgb.fill(grey, i * 3, i * 3 + 3);
    } else {
      pixels.copy(rgb, i * 3, i * bpp, i * bpp + 3);
    }
  }
  return { width, height, rgb };
}

/** How many pixels differ between two decoded images of the same size. */
export function differingPixels(a: DecodedPng, b: DecodedPng): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error("images differ in size");
  let count = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (a.rgb[i * 3] !== b.rgb[i * 3] || a.rgb[i * 3 + 1] !== b.rgb[i * 3 + 1] || a.rgb[i * 3 + 2] !== b.rgb[i * 3 + 2]) count++;
  }
  return count;
}
