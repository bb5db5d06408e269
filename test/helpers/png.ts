/**
 * Reads an 8-bit, non-interlaced PNG (what Chromium's `--screenshot` writes) into RGBA pixels,
 * with node:zlib only: the IDAT chunks are one zlib stream of scanlines, each after a filter byte.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** 4 bytes per pixel, row after row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Bytes per pixel by colour type: greyscale, RGB, greyscale+alpha, RGBA (palettes are not read). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(file: Buffer): Image {
  if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const data = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [bitDepth, colourType, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      channels = CHANNELS[colourType!] ?? 0;
      if (bitDepth !== 8 || !channels || interlace !== 0) throw new Error(`unsupported PNG: depth ${bitDepth}, colour type ${colourType}, interlace ${interlace}`);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length; // length, type, data, CRC
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) unfilter(raw, y * (stride + 1), out, y * stride, stride, channels);
  return { width, height, rgba: toRgba(out, channels) };
}

/** Undoes one scanline's filter (None, Sub, Up, Average, Paeth) into `out`, using the row above. */
function unfilter(raw: Buffer, from: number, out: Uint8Array, to: number, stride: number, bpp: number): void {
  const filter = raw[from]!;
  const line = raw.subarray(from + 1, from + 1 + stride);
  for (let i = 0; i < stride; i++) {
    const left = i >= bpp ? out[to + i - bpp]! : 0;
    const up = to >= stride ? out[to + i - stride]! : 0;
    const upLeft = i >= bpp && to >= stride ? out[to + i - stride - bpp]! : 0;
    let predicted = 0;
    if (filter === 1) predicted = left;
    else if (filter === 2) predicted = up;
    else if (filter === 3) predicted = (left + up) >> 1;
    else if (filter === 4) predicted = paeth(left, up, upLeft);
    else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
    out[to + i] = (line[i]! + predicted) & 0xff;
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function toRgba(pixels: Uint8Array, channels: number): Uint8Array {
  if (channels === 4) return pixels;
  const n = pixels.length / channels;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const p = pixels.subarray(i * channels, (i + 1) * channels);
    const [r, g, b, a] = channels === 3 ? [p[0]!, p[1]!, p[2]!, 255] : channels === 2 ? [p[0]!, p[0]!, p[0]!, p[1]!] : [p[0]!, p[0]!, p[0]!, 255];
    rgba.set([r, g, b, a], i * 4);
  }
  return rgba;
}

/** How many pixels have each colour, keyed `0xRRGGBBAA`. */
export function colourCounts(image: Image): Map<number, number> {
  const counts = new Map<number, number>();
  const view = new DataView(image.rgba.buffer, image.rgba.byteOffset, image.rgba.byteLength);
  for (let i = 0; i < image.rgba.length; i += 4) {
    const colour = view.getUint32(i);
    counts.set(colour, (counts.get(colour) ?? 0) + 1);
  }
  return counts;
}
