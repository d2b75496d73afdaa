--[[
  Move at most `chunk` due delayed jobs to their tenants' waiting lists.

  Input:
    KEYS[1] delayed    ZSET  id -> due ms
    KEYS[2] ring       LIST  tenants with waiting jobs
    KEYS[3] marker     ZSET  wake-up marker
    KEYS[4] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant> share its
                       hash tag
    ARGV[2] chunk      (int) <= 1000

  Returns:
    { promoted, next_due } where next_due is ms until the next delayed job is due, -1 if none

  Errors:
    none
]]
local delayed_key, ring_key, marker_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local P, chunk = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
local n = 0
local due = redis.call('ZRANGE', delayed_key, '-inf', now, 'BYSCORE', 'LIMIT', 0, chunk)
for _, id in ipairs(due) do
  redis.call('ZREM', delayed_key, id)
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'tenant', 'state')
  if f[1] and f[2] == 'delayed' then
    redis.call('HSET', jk, 'state', 'waiting')
    push_waiting(P, ring_key, f[1], id, false)
    tcount(tenants_key, 'delayed', f[1], -1)
    tcount(tenants_key, 'waiting', f[1], 1)
    n = n + 1
  end
end
if n > 0 then redis.call('ZADD', marker_key, 0, 'r') end
local next_due = -1
local first = redis.call('ZRANGE', delayed_key, 0, 0, 'WITHSCORES')
if first[2] then
  next_due = tonumber(first[2]) - now
  if next_due < 0 then next_due = 0 end
end
return { n, next_due }
