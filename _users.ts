// SessionManager.users: the UserSessions of a manager, over its store
// access, codec and saver.

import type { ContentsCodec } from "./_contents.ts";
import type { Device } from "./_device.ts";
import { cannot } from "./_errors.ts";
import type { Saver } from "./_save.ts";
import { SessionHandle } from "./_session.ts";
import { checkUser } from "./_store_args.ts";
import type { StoreAccess } from "./_store_access.ts";
import type { Session } from "./session.ts";
import type { VersionedEntry } from "./store.ts";
import type { UserSession, UserSessions } from "./user_sessions.ts";

/** A user's session as the store listed it, with its device. */
interface Listed {
  key: string;
  device: Device;
  entry: VersionedEntry;
}

/** A manager's {@linkcode UserSessions}. */
export class Users implements UserSessions {
  #access: StoreAccess;
  #contents: ContentsCodec;
  #saver: Saver;

  constructor(access: StoreAccess, contents: ContentsCodec, saver: Saver) {
    this.#access = access;
    this.#contents = contents;
    this.#saver = saver;
  }

  async list<T extends object>(
    user: string,
    current?: Session<T>,
  ): Promise<UserSession[]> {
    checkUser("list sessions", user);
    const here = current === undefined ? undefined : deviceOf(current, "list");
    const listed: UserSession[] = [];
    for (const { device, entry } of await this.#devices(user)) {
      const session: UserSession = {
        id: device.id,
        created: new Date(device.created),
        lastSeen: new Date(device.seen),
        expiry: entry.expiry,
        userAgent: device.agent,
        current: device.id === here?.id,
      };
      if (device.address !== undefined) session.address = device.address;
      listed.push(session);
    }
    return listed.sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  async revoke(user: string, id: string): Promise<boolean> {
    checkUser("revoke session", user);
    if (typeof id !== "string") {
      throw cannot("revoke session", "id must be a string", id);
    }
    for (const { key, device, entry } of await this.#devices(user)) {
      if (device.id === id) {
        await this.#saver.end(key, entry);
        return true;
      }
    }
    return false;
  }

  async revokeAll<T extends object>(
    user: string,
    options: { except?: Session<T> | string } = {},
  ): Promise<number> {
    checkUser("revoke sessions", user);
    const { except } = options;
    const kept = typeof except === "string" || except === undefined
      ? except
      : deviceOf(except, "revoke sessions")?.id;
    const ending = (await this.#devices(user))
      .filter(({ device }) => device.id !== kept)
      .map(({ key, entry }) => this.#saver.end(key, entry));
    await Promise.all(ending);
    return ending.length;
  }

  /** The user's live, decodable sessions bound to them, with their keys. */
  async #devices(
    user: string,
  ): Promise<Listed[]> {
    const now = Date.now();
    const found: Listed[] = [];
    for (const [key, entry] of await this.#access.byUser(user)) {
      if (entry.ended || !(now < entry.expiry.getTime())) continue;
      const contents = this.#contents.decode(entry.data, false)?.contents;
      const device = contents?.device;
      if (device?.user !== user || !(contents!.deadline > now)) continue;
      found.push({ key, device, entry });
    }
    return found;
  }
}

/** The device of a request's session, if bound. */
function deviceOf<T extends object>(
  session: Session<T>,
  action: string,
): Device | undefined {
  return SessionHandle.stateFor(session, action).device;
}
