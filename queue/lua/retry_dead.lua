--[[
  Move dead jobs back to waiting with a fresh attempt budget (operator "retry").

  Input:
    KEYS[1] dead       ZSET  id -> died ms
    KEYS[2] ring       LIST  tenants with waiting jobs
    KEYS[3] marker     ZSET  wake-up marker
    KEYS[4] stats      HASH  counters
    KEYS[5] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id>, P:w:<tenant> share its
                       hash tag
    ARGV[2..] id       (string) at most 500 ids; ids not dead are skipped

  Returns:
    number of jobs moved to waiting

  Errors:
    none
]]
local dead_key, ring_key, marker_key, stats_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local P = ARGV[1]
local now = now_ms()
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = P .. ':job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'tenant')
  if f[1] == 'dead' then
    redis.call('ZREM', dead_key, id)
    redis.call('HSET', jk, 'state', 'waiting', 'attempts', 0, 'deferrals', 0, 'due_ms', now)
    redis.call('HDEL', jk, 'died_ms')
    push_waiting(P, ring_key, f[2], id, false)
    tcount(tenants_key, 'dead', f[2], -1)
    tcount(tenants_key, 'waiting', f[2], 1)
    n = n + 1
  end
end
if n > 0 then
  redis.call('ZADD', marker_key, 0, 'r')
  redis.call('HINCRBY', stats_key, 'revived', n)
end
return n
