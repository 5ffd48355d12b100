// The device of a session bound to a user: made when a request binds it,
// from that request's User-Agent (and address, when the app opted in).

import type { UsersConfig } from "./_manager_options.ts";
import { base64url } from "./_token.ts";

/** The most characters of a User-Agent kept. */
export const MAX_AGENT_LENGTH = 256;

/** A bound session's user and device, times in ms. */
export interface Device {
  readonly user: string;
  /** The public id: random, unrelated to the token. */
  readonly id: string;
  readonly created: number;
  readonly seen: number;
  readonly agent: string;
  readonly address: string | undefined;
}

/** A request, as far as a device is made of it. */
export interface ClientRequest {
  readonly headers: { get(name: string): string | null };
}

/** The client address in a `Deno.ServeHandlerInfo` (or alike), if any. */
export function addressOf(info: unknown): string | undefined {
  const addr = (info as { remoteAddr?: { hostname?: unknown } } | undefined)
    ?.remoteAddr;
  return typeof addr?.hostname === "string" ? addr.hostname : undefined;
}

/** Makes the devices of sessions bound in a request. */
export class Binder {
  readonly key: string;
  #address: boolean;

  constructor(users: UsersConfig) {
    this.key = users.key;
    this.#address = users.address;
  }

  /**
   * A new device for `user`, seen now, from the request that binds it and
   * what the server said of its connection (`info`).
   */
  bind(
    user: string,
    request: ClientRequest | undefined,
    info: unknown,
  ): Device {
    const now = Date.now();
    const agent = request?.headers.get("user-agent") ?? "";
    return {
      user,
      id: base64url(crypto.getRandomValues(new Uint8Array(16))),
      created: now,
      seen: now,
      agent: agent.slice(0, MAX_AGENT_LENGTH),
      address: this.#address ? addressOf(info) : undefined,
    };
  }
}
