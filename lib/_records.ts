// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0
/**
 * How node records are stored (the storage behind Go's `nodeState`, `nodes` and
 * `nodeMap`).
 *
 * A record has two parts. What a node says about itself (name, address, port,
 * metadata, protocol versions) is the same in every view that holds it, so it is
 * kept once, in a frozen {@linkcode NodeIdentity} that all views and all
 * Memberlist instances of the process share. Names are interned with it: a name
 * decoded from a packet is looked up and dropped, and the table keeps one string
 * and one address per node. What a view believes (incarnation, state, when it
 * last changed) is the view's own: a {@linkcode NodeRecord} holds only that and a
 * reference to the identity.
 *
 * Each name also gets a small integer (its slot), and a view finds its record by
 * slot in a flat array ({@linkcode NodeTable}) instead of a hash map of its own.
 * Names and slots live as long as some record refers to them: the intern table
 * holds them weakly, and a slot is reused once its name is collected. None of
 * this changes what is sent or decided: slots and sharing are invisible to the
 * protocol, so a simulation still replays exactly from its seed.
 *
 * @module
 */

import { bytesEqual } from "./_bytes.ts";
import { formatIP } from "./_ip.ts";
import { joinHostPort, type NodeState } from "./node.ts";

/** One name and its slot, alive while any identity of that name is. */
class NameSlot {
  readonly name: string;
  readonly slot: number;
  /** The newest identity made for this name (to share with the next view that needs it). */
  latest: NodeIdentity | null = null;
  constructor(name: string, slot: number) {
    this.name = name;
    this.slot = slot;
  }
}

/** Name → its slot, held weakly; the slot numbers freed by collected names. */
const names = new Map<string, WeakRef<NameSlot>>();
const freeSlots: number[] = [];
let nextSlot = 0;
const collected = new FinalizationRegistry<{ name: string; slot: number }>(({ name, slot }) => {
  // A newer slot may have been made for the name since; only drop the entry when it is dead.
  const ref = names.get(name);
  if (ref !== undefined && ref.deref() === undefined) names.delete(name);
  freeSlots.push(slot);
});

function nameSlot(name: string): NameSlot {
  const found = names.get(name)?.deref();
  if (found !== undefined) return found;
  const s = new NameSlot(name, freeSlots.pop() ?? nextSlot++);
  names.set(name, new WeakRef(s));
  collected.register(s, { name, slot: s.slot });
  return s;
}

/** The slot of a name if some record of the process holds it, else -1. */
function slotOf(name: string): number {
  return names.get(name)?.deref()?.slot ?? -1;
}

/**
 * What a node says about itself, shared by every view that holds the same
 * version of it. Frozen: a change (new address, metadata or versions) makes a
 * new identity.
 */
export class NodeIdentity {
  /** Node name (interned). */
  readonly name: string;
  /** Advertised IP, 4 or 16 bytes. */
  readonly addr: Uint8Array;
  /** `addr` as text. */
  readonly ip: string;
  readonly port: number;
  /** `ip:port` (IPv6 in brackets). */
  readonly address: string;
  /** Metadata, or null when none. */
  readonly meta: Uint8Array | null;
  /** Protocol and delegate versions: pMin, pMax, pCur, dMin, dMax, dCur (zeros when unknown). */
  readonly vsn: Uint8Array;
  /** The name's slot (index into a {@linkcode NodeTable}). */
  readonly slot: number;
  /** Keeps the name's slot (and so `slot`) taken while this identity lives. */
  readonly held: object;

  private constructor(s: NameSlot, addr: Uint8Array, port: number, meta: Uint8Array | null, vsn: Uint8Array) {
    this.held = s;
    this.name = s.name;
    this.slot = s.slot;
    this.addr = addr;
    this.ip = formatIP(addr);
    this.port = port;
    this.address = joinHostPort(this.ip, port);
    this.meta = meta;
    this.vsn = vsn;
    Object.freeze(this);
  }

  /**
   * The shared identity with these fields: the newest one made for `name` when
   * it matches, else a new one (which becomes the newest). Copies `addr`, `meta`
   * and `vsn` when it makes one, so that the caller's buffers are never kept.
   *
   * @param vsn Six version bytes, or fewer to keep those of `base` (zeros without one).
   */
  static of(
    name: string,
    addr: Uint8Array,
    port: number,
    meta: Uint8Array | null,
    vsn: Uint8Array,
    base?: NodeIdentity,
  ): NodeIdentity {
    const s = nameSlot(name);
    const v = vsn.length >= 6 ? vsn : (base?.vsn ?? ZERO_VSN);
    const l = s.latest;
    if (
      l !== null && l.port === port && bytesEqual(l.addr, addr) && (l.meta === null) === (meta === null) &&
      (meta === null || bytesEqual(l.meta!, meta)) && bytesEqual(l.vsn, v)
    ) {
      return l;
    }
    const made = new NodeIdentity(
      s,
      l !== null && bytesEqual(l.addr, addr) ? l.addr : addr.slice(),
      port,
      meta === null ? null : l?.meta != null && bytesEqual(l.meta, meta) ? l.meta : meta.slice(),
      l !== null && bytesEqual(l.vsn, v) ? l.vsn : v === ZERO_VSN ? v : v.slice(0, 6),
    );
    s.latest = made;
    return made;
  }
}

const ZERO_VSN = new Uint8Array(6);

/**
 * One node as one view knows it (Go `nodeState`): the shared identity plus this
 * view's incarnation, state and time of the last state change.
 */
export class NodeRecord {
  /** What the node says about itself (shared; replace it, never change it). */
  id: NodeIdentity;
  /** Last known incarnation. */
  incarnation: number;
  /** Current state. */
  state: NodeState;
  /** Clock time of the last state change (read only while suspect, dead or left). */
  stateChange: number;

  constructor(id: NodeIdentity, incarnation: number, state: NodeState, stateChange: number) {
    this.id = id;
    this.incarnation = incarnation;
    this.state = state;
    this.stateChange = stateChange;
  }

  /** A copy (the identity stays shared), e.g. to judge a node as it was at a moment. */
  clone(): NodeRecord {
    return new NodeRecord(this.id, this.incarnation, this.state, this.stateChange);
  }

  /** Node name. */
  get name(): string {
    return this.id.name;
  }
  /** Advertised IP, exactly as received (4 or 16 bytes). */
  get addr(): Uint8Array {
    return this.id.addr;
  }
  /** `addr` as text. */
  get ip(): string {
    return this.id.ip;
  }
  /** Advertised port. */
  get port(): number {
    return this.id.port;
  }
  /** Metadata (null when none). */
  get meta(): Uint8Array | null {
    return this.id.meta;
  }
  /** Protocol and delegate versions. */
  get pMin(): number {
    return this.id.vsn[0]!;
  }
  get pMax(): number {
    return this.id.vsn[1]!;
  }
  get pCur(): number {
    return this.id.vsn[2]!;
  }
  get dMin(): number {
    return this.id.vsn[3]!;
  }
  get dMax(): number {
    return this.id.vsn[4]!;
  }
  get dCur(): number {
    return this.id.vsn[5]!;
  }
}

/**
 * One view's records by name (Go `nodeMap`), with the methods of a `Map` that
 * the state machine uses. Records sit in an array indexed by their name's slot:
 * a lookup is one intern-table probe shared by the process, plus an array read.
 */
export class NodeTable {
  #bySlot: (NodeRecord | undefined)[] = [];
  #size = 0;

  /** Number of records. */
  get size(): number {
    return this.#size;
  }

  /**
   * Makes room for slots below `slots` at once (exactly, where growing one
   * record at a time would leave up to half the array spare): for a caller
   * that is about to fill a large table.
   */
  reserve(slots: number): void {
    const a = this.#bySlot;
    if (a.length >= slots) return;
    const grown: (NodeRecord | undefined)[] = new Array(slots).fill(undefined);
    for (let i = 0; i < a.length; i++) grown[i] = a[i];
    this.#bySlot = grown;
  }

  /** The record of `name`, if this view has one. */
  get(name: string): NodeRecord | undefined {
    const slot = slotOf(name);
    return slot < 0 ? undefined : this.#bySlot[slot];
  }

  /** Whether this view has a record of `name`. */
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /**
   * Stores `record` under its name.
   *
   * @throws {RangeError} When `name` is not the record's name.
   */
  set(name: string, record: NodeRecord): this {
    if (record.name !== name) {
      throw new RangeError(`Cannot store node record: name "${name}" is not the record's name "${record.name}"`);
    }
    const slot = record.id.slot;
    const a = this.#bySlot;
    // Grow densely (holes would turn the array into a dictionary on some engines).
    while (a.length <= slot) a.push(undefined);
    if (a[slot] === undefined) this.#size++;
    a[slot] = record;
    return this;
  }

  /** Removes the record of `name`; true when there was one. */
  delete(name: string): boolean {
    const slot = slotOf(name);
    if (slot < 0 || this.#bySlot[slot] === undefined) return false;
    this.#bySlot[slot] = undefined;
    this.#size--;
    return true;
  }

  /** The records, in slot order. */
  *values(): IterableIterator<NodeRecord> {
    for (const r of this.#bySlot) if (r !== undefined) yield r;
  }

  /** The names, in slot order. */
  *keys(): IterableIterator<string> {
    for (const r of this.#bySlot) if (r !== undefined) yield r.name;
  }

  /** `[name, record]` pairs, in slot order. */
  *entries(): IterableIterator<[string, NodeRecord]> {
    for (const r of this.#bySlot) if (r !== undefined) yield [r.name, r];
  }

  [Symbol.iterator](): IterableIterator<[string, NodeRecord]> {
    return this.entries();
  }
}
