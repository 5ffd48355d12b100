/**
 * How sessions become bytes for a {@linkcode Store}: the {@linkcode Codec}
 * interface and the default {@linkcode jsonCodec}.
 *
 * @module
 */

import { valueName } from "./_errors.ts";

/** A session as a codec sees it. */
export interface SessionData {
  /** The session's absolute deadline. */
  deadline: Date;
  /** The session's values, by key. */
  values: Record<string, unknown>;
  /** Whether `rememberMe(true)` asked for a persistent cookie. */
  rememberMe?: boolean;
  /**
   * The user the session is bound to, and the device it runs on (with the
   * manager's `users` option). A codec must give it back as it was given.
   */
  device?: SessionDevice;
}

/** A session bound to a user: whose it is, and the device it runs on. */
export interface SessionDevice {
  /** The user id. */
  user: string;
  /**
   * The session's public id: random, shown in device lists; nothing of the
   * token or its store key can be derived from it.
   */
  id: string;
  /** When the session was bound to the user (their sign-in). */
  created: Date;
  /** When a request of the session was last seen (see `users.seenEvery`). */
  lastSeen: Date;
  /** The `User-Agent` of the request that bound it, trimmed. */
  userAgent: string;
  /** The client address of that request, when the application opted in. */
  address?: string;
}

/**
 * Turns {@linkcode SessionData} into bytes and back.
 *
 * @example A codec that stores JSON as text
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Codec, SessionData } from "@sessions/memstore";
 *
 * const textCodec: Codec = {
 *   encode: (data: SessionData) =>
 *     new TextEncoder().encode(JSON.stringify({ ...data, deadline: +data.deadline })),
 *   decode: (bytes: Uint8Array): SessionData => {
 *     const { deadline, values } = JSON.parse(new TextDecoder().decode(bytes));
 *     return { deadline: new Date(deadline), values };
 *   },
 * };
 * const bytes = textCodec.encode({ deadline: new Date(0), values: { a: 1 } });
 * assert.equal(textCodec.decode(bytes).values.a, 1);
 * ```
 */
export interface Codec {
  /**
   * Encodes a session.
   *
   * @param data The session to encode.
   * @returns The bytes to store.
   */
  encode(data: SessionData): Uint8Array;
  /**
   * Decodes bytes made by `encode`.
   *
   * @param bytes Stored bytes.
   * @returns The session.
   * @throws When the bytes are not a session this codec made.
   */
  decode(bytes: Uint8Array): SessionData;
  /**
   * Throws a `TypeError` when `value` cannot be encoded faithfully. Called by
   * `Session.put()`, so a bad value fails where it is put, not when the
   * session is saved later. Without it, `put()` tries `encode` instead.
   *
   * @param value A value about to be put in a session.
   */
  check?(value: unknown): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Why a value would not come back as it was, or `undefined`. */
function changedBy(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      if (Object.is(value, -0)) return "-0 comes back as 0";
      return Number.isFinite(value)
        ? undefined
        : "only finite numbers are JSON numbers";
    case "object": {
      if (value === null) return undefined;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        return proto === Array.prototype
          ? undefined
          : "a subclass of Array comes back as an Array";
      }
      if (proto === null) {
        return "an object without a prototype comes back with Object.prototype (copy it into {})";
      }
      return proto === Object.prototype
        ? undefined
        : "values must be null, booleans, finite numbers, strings, arrays or plain objects";
    }
  }
  return "values must be null, booleans, finite numbers, strings, arrays or plain objects";
}

function checkJson(
  value: unknown,
  path: string,
  seen: Set<object> | undefined,
): void {
  const where = path ? ` at ${path}` : "";
  const problem = changedBy(value);
  if (problem !== undefined) {
    throw new TypeError(
      `Cannot encode ${valueName(value)}${where} as JSON: ${problem}`,
    );
  }
  if (typeof value !== "object" || value === null) return;
  seen ??= new Set(); // made only for an object: most values put are not
  if (seen.has(value)) {
    throw new TypeError(
      `Cannot encode a circular structure: the value at ${
        path || "the top"
      } refers back to a value that contains it`,
    );
  }
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw new TypeError(
      `Cannot encode the object${where} as JSON: its symbol keys would be lost`,
    );
  }
  seen.add(value);
  const isArray = Array.isArray(value);
  const names = Object.getOwnPropertyNames(value);
  if (isArray && names.length !== value.length + 1) {
    throw new TypeError(
      `Cannot encode the array${where} as JSON: it has holes or properties other than its items, which would not come back`,
    );
  }
  for (const name of names) {
    if (isArray && name === "length") continue;
    const property = Object.getOwnPropertyDescriptor(value, name)!;
    if (!property.enumerable || !("value" in property)) {
      throw new TypeError(
        `Cannot encode ${JSON.stringify(name)}${where} as JSON: ${
          property.enumerable
            ? "a getter or setter"
            : "a non-enumerable property"
        } would not come back as it is`,
      );
    }
    checkJson(
      property.value,
      isArray ? `${path}[${name}]` : `${path}.${name}`,
      seen,
    );
  }
  seen.delete(value);
}

/** The `device` field of a stored session, checked. */
function decodeDevice(record: unknown): SessionDevice {
  const { user, id, created, seen, agent, address } =
    (typeof record === "object" && record !== null ? record : {}) as Record<
      string,
      unknown
    >;
  if (
    typeof user !== "string" || typeof id !== "string" ||
    typeof created !== "number" || typeof seen !== "number" ||
    typeof agent !== "string" ||
    (address !== undefined && typeof address !== "string")
  ) {
    throw malformed(`device is not a device record: ${valueName(record)}`);
  }
  const device: SessionDevice = {
    user,
    id,
    created: new Date(created),
    lastSeen: new Date(seen),
    userAgent: agent,
  };
  if (address !== undefined) device.address = address;
  return device;
}

function malformed(reason: string): SyntaxError {
  return new SyntaxError(`Cannot decode session: ${reason}`);
}

/**
 * The default codec: UTF-8 JSON, `{"deadline":<ms>,"values":{...}}`.
 *
 * Its `check` accepts exactly the values that come back from a save equal
 * to what was put (as `assert.deepStrictEqual` sees it): null, booleans,
 * finite numbers but -0, strings, and arrays and plain objects of those,
 * with no holes, symbol keys, accessors or hidden properties. So a `Date`,
 * `Map`, `undefined`, `BigInt` or `Object.create(null)` is refused by
 * `put()` instead of coming back as something else.
 *
 * @example Encoding and decoding a session
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "@sessions/memstore";
 *
 * const bytes = jsonCodec.encode({ deadline: new Date(0), values: { userId: 42 } });
 * const { deadline, values } = jsonCodec.decode(bytes);
 * assert.equal(deadline.getTime(), 0);
 * assert.equal(values.userId, 42);
 * ```
 */
export const jsonCodec: Codec = {
  encode(data: SessionData): Uint8Array {
    const record: Record<string, unknown> = {
      deadline: data.deadline.getTime(),
      values: data.values,
    };
    if (data.rememberMe !== undefined) record.rememberMe = data.rememberMe;
    const device = data.device;
    if (device !== undefined) {
      record.device = {
        user: device.user,
        id: device.id,
        created: device.created.getTime(),
        seen: device.lastSeen.getTime(),
        agent: device.userAgent,
        ...(device.address === undefined ? {} : { address: device.address }),
      };
    }
    return encoder.encode(JSON.stringify(record));
  },

  decode(bytes: Uint8Array): SessionData {
    let record: unknown;
    try {
      record = JSON.parse(decoder.decode(bytes));
    } catch (error) {
      throw malformed(`not UTF-8 JSON (${(error as Error).message})`);
    }
    if (typeof record !== "object" || record === null) {
      throw malformed(`expected an object, found ${valueName(record)}`);
    }
    const { deadline, values, rememberMe, device } = record as Record<
      string,
      unknown
    >;
    if (typeof deadline !== "number" || !Number.isFinite(deadline)) {
      throw malformed(
        `deadline must be a number, found ${valueName(deadline)}`,
      );
    }
    if (
      typeof values !== "object" || values === null || Array.isArray(values)
    ) {
      throw malformed(`values must be an object, found ${valueName(values)}`);
    }
    if (rememberMe !== undefined && typeof rememberMe !== "boolean") {
      throw malformed(
        `rememberMe must be a boolean, found ${valueName(rememberMe)}`,
      );
    }
    const data: SessionData = {
      deadline: new Date(deadline),
      values: values as Record<string, unknown>,
    };
    if (rememberMe !== undefined) data.rememberMe = rememberMe;
    if (device !== undefined) data.device = decodeDevice(device);
    return data;
  },

  check(value: unknown): void {
    checkJson(value, "", undefined);
  },
};
