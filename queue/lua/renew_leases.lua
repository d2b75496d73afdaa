--[[
  Extend the leases this worker still holds; report the ones it lost. Records the worker beat.

  Input:
    KEYS[1] active     ZSET  id -> lease expiry ms
    KEYS[2] workers    ZSET  worker_id -> last beat ms

    ARGV[1] P          (string) key prefix; dynamic keys P:job:<id> share its hash tag
    ARGV[2] worker_id  (string)
    ARGV[3] lease_ms   (int ms)
    then 2 per job:
    ARGV[i+0] id       (string)
    ARGV[i+1] token    (string) fencing token received from lease_next

  Returns:
    array of ids whose lease is no longer held by this token (reclaimed, settled or deleted)

  Errors:
    none
]]
local active_key, workers_key = KEYS[1], KEYS[2]
local P, worker_id, lease_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local lost = {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', P .. ':job:' .. id, 'state', 'lease')
  if f[1] == 'active' and f[2] == token then
    redis.call('ZADD', active_key, 'XX', now + lease_ms, id)
  else
    lost[#lost + 1] = id
  end
end
redis.call('ZADD', workers_key, now, worker_id)
return lost
