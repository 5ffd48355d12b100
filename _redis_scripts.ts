// RedisStore's Lua scripts, each run by its hash (EVALSHA). The values
// they read and write are laid out as _redis_layout.ts says.

/** Lua helpers of the scripts: a value's expiry, and the user it is bound to. */
const ENTRY = `
local function expiry(value)
  if type(value) ~= 'string' or #value < 33 then return nil end
  local kind = string.sub(value, 33, 33)
  local digits = string.sub(value, 17, 32)
  if (kind ~= 's' and kind ~= 'e' and kind ~= 'u')
    or not string.match(digits, '^%d+$') then
    return nil
  end
  return tonumber(digits)
end
local function userOf(value)
  if expiry(value) == nil or string.sub(value, 33, 33) ~= 'u' then
    return ''
  end
  local length = tonumber(string.sub(value, 34, 37), 16)
  if length == nil then return '' end
  return string.sub(value, 38, 37 + length)
end
`;

/**
 * Writes all of KEYS, or none: each key's version must still be the one
 * given ("" for no live entry). ARGV[1] is now (ms, the application's
 * clock), ARGV[2] the key prefix, ARGV[3] "1" to change the user lists in
 * the script too (one node) or "0" (a cluster, where they are in other
 * slots: the store changes them around the script); then for each key, the
 * version wanted, the new value, the ms left until its expiry (at most 0:
 * the key is removed), and the user it is listed under ("" for none).
 */
export const COMPARE_AND_SET = ENTRY + `
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local indexed = ARGV[3] == '1'
local current = {}
for i = 1, #KEYS do
  local wanted = ARGV[4 * i]
  current[i] = redis.call('GET', KEYS[i])
  local expires = expiry(current[i])
  local live = expires ~= nil and expires > now
  if wanted == '' then
    if live then return 0 end
  elseif not live or string.sub(current[i], 1, 16) ~= wanted then
    return 0
  end
end
for i = 1, #KEYS do
  local value, span, user = ARGV[4 * i + 1], ARGV[4 * i + 2], ARGV[4 * i + 3]
  local token = string.sub(KEYS[i], #prefix + 1)
  local old = userOf(current[i])
  if not indexed then old, user = '', '' end
  if old ~= '' and old ~= user then
    redis.call('ZREM', prefix .. 'user:' .. old, token)
  end
  if tonumber(span) <= 0 then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], value, 'PX', span)
    if user ~= '' then
      local list = prefix .. 'user:' .. user
      redis.call('ZREMRANGEBYSCORE', list, '-inf', now)
      redis.call('ZADD', list, now + tonumber(span), token)
      if redis.call('PTTL', list) < tonumber(span) then
        redis.call('PEXPIRE', list, span)
      end
    end
  end
end
return 1
`;

/**
 * Lists a token under a user, on a cluster (the list alone): KEYS[1] is the
 * user's list; ARGV[1] now, ARGV[2] the session's expiry, ARGV[3] the
 * token. Drops expired entries; the list expires with its last session.
 */
export const LIST_USER = `
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], expiry, ARGV[3])
if redis.call('PTTL', KEYS[1]) < expiry - now then
  redis.call('PEXPIRE', KEYS[1], expiry - now)
end
return 1
`;

/** The tokens of a user's list, expired entries dropped first. */
export const LIST_TOKENS = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`;

/**
 * The live sessions listed under a user: KEYS[1] is the user's list,
 * ARGV[1] now, ARGV[2] the key prefix, ARGV[3] the user. Returns token and
 * value pairs; removes from the list what is no longer that user's live
 * session.
 */
export const FIND_BY_USER = ENTRY + `
local now = tonumber(ARGV[1])
local prefix, user = ARGV[2], ARGV[3]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local found = {}
for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local value = redis.call('GET', prefix .. token)
  local expires = expiry(value)
  if expires ~= nil and expires > now and userOf(value) == user then
    found[#found + 1] = token
    found[#found + 1] = value
  else
    redis.call('ZREM', KEYS[1], token)
  end
end
return found
`;
