-- acquire_hubspot.lua: take one HubSpot call permit for a portal, atomically.
--
-- All keys share the hash tag `{<prefix>:hs:<portal>}` so they live in one cluster slot.
--
-- KEYS[1]  burst window log (ZSET, score = grant time in µs) for (app, portal)
-- KEYS[2]  observed burst cap for (app, portal) (string integer, short TTL; may be absent)
-- KEYS[3]  daily counter (HASH {day = local day number, used = calls granted that day})
-- KEYS[4]  observed daily cap for the portal (string integer, TTL; may be absent)
-- KEYS[5]  search window log (ZSET, score = grant time in µs) for the portal
-- KEYS[6]  observed search cap for the portal (string integer, TTL; may be absent)
-- KEYS[7]  sequence counter used to make ZSET members unique
--
-- ARGV[1]  call kind: "standard" | "search"
-- ARGV[2]  burst limit per window (requests)
-- ARGV[3]  burst window in milliseconds (10000 for HubSpot)
-- ARGV[4]  daily limit (requests), or -1 for no daily budget
-- ARGV[5]  search limit per second
-- ARGV[6]  account time zone as an offset from UTC in minutes (daily reset at local midnight)
--
-- Returns  { granted (1|0), wait_ms, limit ("" | "burst" | "daily" | "search"),
--            now_s, now_us_fraction, window_remaining (-1 unknown), daily_remaining (-1 none) }
--          On a grant wait_ms is 0; otherwise wait_ms >= 1 is the time until the most
--          restrictive blocking limit frees and `limit` names it. Time comes from Redis TIME.
--
-- Numbers passed back to redis.call are formatted with %.0f: Lua's default number
-- formatting (%.14g) would lose precision on microsecond timestamps.

local t = redis.call('TIME')
local now_s = tonumber(t[1])
local now_frac = tonumber(t[2])
local now_us = now_s * 1000000 + now_frac
local now_ms = math.floor(now_us / 1000)

local kind = ARGV[1]
local burst_limit = tonumber(ARGV[2])
local window_ms = tonumber(ARGV[3])
local daily_limit = tonumber(ARGV[4])
local search_limit = tonumber(ARGV[5])
local tz_ms = tonumber(ARGV[6]) * 60000

local DAY_MS = 86400000
local day = math.floor((now_ms + tz_ms) / DAY_MS)
local reset_ms = (day + 1) * DAY_MS - tz_ms

local function fmt(n)
  return string.format('%.0f', n)
end

local wait = 0
local reason = ''
local function block(ms, why)
  ms = math.ceil(ms)
  if ms < 1 then ms = 1 end
  if ms > wait then
    wait = ms
    reason = why
  end
end

-- An observed cap (from HubSpot's headers or a 429) at or below zero blocks until it expires.
local function cap_value(key, why)
  local v = redis.call('GET', key)
  if not v then
    return nil
  end
  local n = tonumber(v) or 0
  if n <= 0 then
    local pttl = redis.call('PTTL', key)
    if pttl < 0 then
      -- A cap without TTL should not exist; give it one so it cannot block forever.
      redis.call('PEXPIRE', key, 1000)
      pttl = 1000
    end
    block(pttl, why)
  end
  return n
end

-- Sliding-window log: drop entries older than the window, count the rest; when full,
-- wait until enough of the oldest entries leave the window for one more call to fit.
local function window_count(key, limit, win_us, why)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now_us - win_us))
  local n = redis.call('ZCARD', key)
  if n >= limit then
    if limit <= 0 then
      block(win_us / 1000, why)
    else
      local e = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
      local oldest = tonumber(e[2]) or now_us
      block((oldest + win_us - now_us) / 1000, why)
    end
  end
  return n
end

-- Daily budget (per portal; standard and search calls both count).
local used = 0
local stored = redis.call('HMGET', KEYS[3], 'day', 'used')
if stored[1] and tonumber(stored[1]) == day then
  used = tonumber(stored[2]) or 0
end
if daily_limit >= 0 and used >= daily_limit then
  block(reset_ms - now_ms, 'daily')
end
local dcap = cap_value(KEYS[4], 'daily')

local win_key, cap_key, limit, win_us, why
if kind == 'search' then
  win_key, cap_key, limit, win_us, why = KEYS[5], KEYS[6], search_limit, 1000000, 'search'
else
  win_key, cap_key, limit, win_us, why = KEYS[1], KEYS[2], burst_limit, window_ms * 1000, 'burst'
end
local n = window_count(win_key, limit, win_us, why)
local cap = cap_value(cap_key, why)

if wait > 0 then
  return { 0, wait, reason, now_s, now_frac, -1, -1 }
end

-- Grant: record the call in the window log, the caps and the daily counter.
local seq = redis.call('INCR', KEYS[7])
redis.call('PEXPIRE', KEYS[7], 60000)
redis.call('ZADD', win_key, fmt(now_us), fmt(now_us) .. '-' .. seq)
redis.call('PEXPIRE', win_key, math.floor(win_us / 1000) + 1000)

local window_remaining = limit - n - 1
if cap then
  cap = redis.call('DECR', cap_key)
  if cap < 0 then
    cap = 0
  end
  if cap < window_remaining then
    window_remaining = cap
  end
end

if stored[1] and tonumber(stored[1]) == day then
  used = redis.call('HINCRBY', KEYS[3], 'used', 1)
else
  redis.call('HSET', KEYS[3], 'day', fmt(day), 'used', 1)
  used = 1
end
redis.call('PEXPIREAT', KEYS[3], fmt(reset_ms))

local daily_remaining = -1
if daily_limit >= 0 then
  daily_remaining = daily_limit - used
end
if dcap then
  dcap = redis.call('DECR', KEYS[4])
  if dcap < 0 then
    dcap = 0
  end
  if daily_remaining < 0 or dcap < daily_remaining then
    daily_remaining = dcap
  end
end

return { 1, 0, '', now_s, now_frac, window_remaining, daily_remaining }
