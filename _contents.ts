// A session's contents to and from stored bytes, through the codec, and
// the cache of decoded sessions kept by their stored bytes.

import type { Contents, RequestSession } from "./_request_session.ts";
import type { Codec, SessionData } from "./codec.ts";

/** Whether every value is a primitive, so sharing the values is safe. */
function flat(values: Map<string, unknown>): boolean {
  for (const value of values.values()) {
    if (typeof value === "object" && value !== null) return false;
  }
  return true;
}

/** Encodes and decodes sessions with a codec. */
export class ContentsCodec {
  #codec: Codec;
  /**
   * Decoded sessions by their stored bytes, for stores that hand back the
   * very arrays they were given: only sessions whose values are all
   * primitives, whose `values` no one modifies (sessions copy them first).
   */
  #decoded = new WeakMap<Uint8Array, Contents>();

  constructor(codec: Codec) {
    this.#codec = codec;
  }

  /**
   * Decodes stored bytes; `undefined` (and a warning) when they are not a
   * session. With `share`, the contents may come from the cache, and go
   * into it: `shared` then says whether their values must be copied before
   * they are changed.
   */
  decode(
    bytes: Uint8Array,
    share: boolean,
  ): { contents: Contents; shared: boolean } | undefined {
    if (share) {
      const cached = this.#decoded.get(bytes);
      if (cached !== undefined) return { contents: cached, shared: true };
    }
    let contents: Contents;
    try {
      const data = this.#codec.decode(bytes);
      if (
        !(data.deadline instanceof Date) || typeof data.values !== "object" ||
        data.values === null
      ) {
        throw new TypeError("the codec returned no deadline or values");
      }
      const device = data.device;
      contents = {
        deadline: data.deadline.getTime(),
        values: new Map(Object.entries(data.values)),
        rememberMe: data.rememberMe,
        device: device === undefined ? undefined : {
          user: device.user,
          id: device.id,
          created: device.created.getTime(),
          seen: device.lastSeen.getTime(),
          agent: device.userAgent,
          address: device.address,
        },
      };
    } catch (error) {
      console.warn("Ignoring a stored session that cannot be decoded:", error);
      return undefined;
    }
    const shared = share && this.#remember(bytes, contents);
    return { contents, shared };
  }

  /** The bytes to store for a session: the loaded ones when nothing changed. */
  encode(state: RequestSession, loaded: Uint8Array | undefined): Uint8Array {
    if (!state.dirty && loaded !== undefined) return loaded;
    const data: SessionData = {
      deadline: new Date(state.deadline),
      values: Object.fromEntries(state.values),
    };
    if (state.rememberMe !== undefined) data.rememberMe = state.rememberMe;
    const device = state.device;
    if (device !== undefined) {
      data.device = {
        user: device.user,
        id: device.id,
        created: new Date(device.created),
        lastSeen: new Date(device.seen),
        userAgent: device.agent,
      };
      if (device.address !== undefined) data.device.address = device.address;
    }
    return this.#codec.encode(data);
  }

  /**
   * After saving `bytes` to a store that keeps them as they are: the next
   * load reads the session's values without decoding them, and the session
   * copies them before changing them again.
   */
  saved(bytes: Uint8Array, state: RequestSession): void {
    if (this.#decoded.has(bytes)) return;
    const contents = {
      deadline: state.deadline,
      values: state.values,
      rememberMe: state.rememberMe,
      device: state.device,
    };
    if (this.#remember(bytes, contents)) state.shared = true;
  }

  /** Caches contents whose values are all primitives; says whether it did. */
  #remember(bytes: Uint8Array, contents: Contents): boolean {
    if (!flat(contents.values)) return false;
    this.#decoded.set(bytes, contents);
    return true;
  }
}
