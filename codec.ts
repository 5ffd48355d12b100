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

function checkJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (Number.isFinite(value)) return;
      break;
    case "object": {
      if (value === null) return;
      const proto = Object.getPrototypeOf(value);
      const isArray = Array.isArray(value);
      if (!isArray && proto !== Object.prototype && proto !== null) break;
      if (seen.has(value)) {
        throw new TypeError(
          `Cannot encode a circular structure: the value at ${
            path || "the top"
          } refers back to a value that contains it`,
        );
      }
      seen.add(value);
      if (isArray) {
        for (let i = 0; i < value.length; i++) {
          checkJson(value[i], `${path}[${i}]`, seen);
        }
      } else {
        for (const [key, item] of Object.entries(value)) {
          checkJson(item, `${path}.${key}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
  }
  throw new TypeError(
    `Cannot encode ${valueName(value)}${
      path ? ` at ${path}` : ""
    } as JSON: values must be null, booleans, finite numbers, strings, arrays or plain objects`,
  );
}

function malformed(reason: string): SyntaxError {
  return new SyntaxError(`Cannot decode session: ${reason}`);
}

/**
 * The default codec: UTF-8 JSON, `{"deadline":<ms>,"values":{...}}`.
 *
 * Its `check` accepts only values that survive JSON unchanged (null,
 * booleans, finite numbers, strings, arrays and plain objects), so a `Date`,
 * `Map`, `undefined` or `BigInt` is refused by `put()` instead of coming back
 * as something else.
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
    const { deadline, values, rememberMe } = record as Record<string, unknown>;
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
    return data;
  },

  check(value: unknown): void {
    checkJson(value, "", new Set());
  },
};
