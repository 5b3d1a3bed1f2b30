// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
// Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol through
// --remote-debugging-pipe (no WebSocket client needed, so it runs under Node 20), and a PNG
// reader for looking at the screenshots it takes.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { inflateSync } from "node:zlib";

export const CHROMIUM = "/usr/bin/chromium";

/** Null when Chromium is here, else why not. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`;
}

/** A headless browser with one page. */
export class Browser {
  #child: ChildProcess;
  #profile: string;
  #out: Writable;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  #buffer = "";
  #session = "";
  stderr = "";

  private constructor(child: ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
    this.#out = child.stdio[3] as Writable;
    const input = child.stdio[4] as Readable;
    input.on("data", (d: Uint8Array) => {
      this.#buffer += String(d);
      let end: number;
      while ((end = this.#buffer.indexOf("\0")) >= 0) {
        const msg = JSON.parse(this.#buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string } };
        this.#buffer = this.#buffer.slice(end + 1);
        if (msg.id === undefined) continue;
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result);
      }
    });
    child.stderr!.on("data", (d: Uint8Array) => (this.stderr += String(d)));
    (child.stdio[3] as Writable).on("error", () => {}); // a write after Chromium exited: the command times out instead
  }

  /** Starts Chromium with a fresh profile and opens `url` in a page of `width` × `height`. */
  static async open(url: string, width = 1280, height = 900): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), "memberlist-chromium-"));
    const child = spawn(CHROMIUM, [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      "--remote-debugging-pipe",
      "about:blank",
    ], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    const b = new Browser(child, profile);
    const { targetId } = await b.send("Target.createTarget", { url: "about:blank" }) as { targetId: string };
    const { sessionId } = await b.send("Target.attachToTarget", { targetId, flatten: true }) as { sessionId: string };
    b.#session = sessionId;
    await b.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    await b.send("Page.enable");
    await b.send("Page.navigate", { url });
    return b;
  }

  /** Sends a DevTools command (to the page once attached). */
  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    const msg: Record<string, unknown> = { id, method, params };
    if (this.#session !== "") msg["sessionId"] = this.#session;
    return new Promise((resolve, reject) => {
      // Chromium gone or stuck: fail the command, never hang the suite.
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer from Chromium in 15 s (exit ${this.#child.exitCode}); stderr:\n${this.stderr}`));
      }, 15_000);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        method,
      });
      this.#out.write(`${JSON.stringify(msg)}\0`);
    });
  }

  /** Evaluates an expression in the page and returns its value (awaiting promises). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }) as {
      result: { value: T };
      exceptionDetails?: { text: string };
    };
    if (r.exceptionDetails !== undefined) throw new Error(`In the page: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** Polls `expression` until it is truthy, at most `timeoutMs`. */
  async waitFor(what: string, expression: string, timeoutMs = 20_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      if (await this.evaluate<boolean>(`Boolean(${expression})`)) return;
      if (Date.now() - start > timeoutMs) {
        const text = await this.evaluate<string>("document.body.innerText");
        throw new Error(`Timed out after ${timeoutMs} ms waiting in the page for ${what}; the page says:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A PNG screenshot of the page. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" }) as { data: string };
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((r) => this.#child.once("exit", r));
      this.#child.kill();
      await exited;
    }
    try {
      // Chromium's helper processes may still be writing the profile for a moment.
      rmSync(this.#profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // A temporary directory left behind is not a test failure.
    }
  }
}

/** A decoded 8-bit RGB(A) PNG. */
export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel. */
  rgba: Uint8Array;
}

/** Decodes a non-interlaced 8-bit RGB or RGBA PNG (what Chromium's screenshots are). */
export function decodePng(png: Uint8Array): Image {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("PNG: only 8-bit, non-interlaced images");
      colorType = data[9]!;
    } else if (type === "IDAT") idat.push(data);
    pos += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (channels === 0) throw new Error(`PNG: colour type ${colorType} not supported`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const x = line[i]!;
      let v: number;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out.set([cur[x * channels]!, cur[x * channels + 1]!, cur[x * channels + 2]!, channels === 4 ? cur[x * channels + 3]! : 255], (y * width + x) * 4);
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

/** Counts the pixels within `tolerance` of a colour given as "#rrggbb". */
export function countColour(img: Image, hex: string, tolerance = 24): number {
  const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) n++;
  }
  return n;
}
