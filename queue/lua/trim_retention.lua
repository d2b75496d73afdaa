--[[
  Remove at most `chunk` completed and `chunk` dead jobs older than their retention window,
  and forget workers silent for an hour.

  Input:
    KEYS[1] done       ZSET  id -> done ms
    KEYS[2] dead       ZSET  id -> died ms
    KEYS[3] workers    ZSET  worker_id -> last beat ms
    KEYS[4] tenants    HASH  "<state>:<tenant>" -> count

    ARGV[1] P                 (string) key prefix; dynamic keys P:job:<id> share its hash tag
    ARGV[2] done_retention    (int ms) completed jobs older than this are deleted
    ARGV[3] dead_retention    (int ms) dead jobs older than this are deleted; < 0 = keep
    ARGV[4] chunk             (int) <= 1000

  Returns:
    { completed_removed, dead_removed }

  Errors:
    none
]]
local done_key, dead_key, workers_key, tenants_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local P, done_ret, dead_ret, chunk = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local c, d = 0, 0
local old = redis.call('ZRANGE', done_key, '-inf', now - done_ret, 'BYSCORE', 'LIMIT', 0, chunk)
for _, id in ipairs(old) do
  redis.call('ZREM', done_key, id)
  local jk = P .. ':job:' .. id
  if redis.call('HGET', jk, 'state') == 'completed' then redis.call('DEL', jk) end
  c = c + 1
end
if dead_ret >= 0 then
  old = redis.call('ZRANGE', dead_key, '-inf', now - dead_ret, 'BYSCORE', 'LIMIT', 0, chunk)
  for _, id in ipairs(old) do
    redis.call('ZREM', dead_key, id)
    local jk = P .. ':job:' .. id
    local f = redis.call('HMGET', jk, 'state', 'tenant')
    if f[1] == 'dead' then
      redis.call('DEL', jk)
      tcount(tenants_key, 'dead', f[2], -1)
    end
    d = d + 1
  end
end
redis.call('ZREMRANGEBYSCORE', workers_key, '-inf', now - 3600000)
return { c, d }
