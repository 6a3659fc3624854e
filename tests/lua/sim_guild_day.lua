-- Simulation: a guild day on a synced ledger. Three officers award points through the day,
-- members log in and out, one member is away for six hours and catches up when back. Run with
-- `tally sim tests/data/addons_host --clients 8 --fps 10 --faults loss=0.1,jitter=0.3
-- --script tests/lua/sim_guild_day.lua`: sim exits 1 unless every client ends with the same ledger.
local clients = tally.clients()
local setup = [[
  -- Only officers (guild rank 0 or 1) may create entries: checked on the creator's GUID.
  local function officer(creator)
    local suffix = string.format("%08X", creator)
    for i = 1, GetNumGuildMembers() do
      local _, _, rank, _, _, _, _, _, _, _, _, _, _, _, _, _, guid = GetGuildRosterInfo(i)
      if guid and guid:sub(-8) == suffix then return rank <= 1 end
    end
    return false
  end
  G = Tally.NewLedger{ name = "GuildPoints", sync = true, initialState = function() return { points = {} } end,
    authorize = function(entry) return officer(entry.creator), "officers only" end }
  G:RegisterMutator("award", function(state, data)
    state.points[data.player] = (state.points[data.player] or 0) + data.amount
  end)
]]
for _, c in ipairs(clients) do c:run(setup) end

local away = clients[#clients]
local hour = 3600
for h = 1, 24 do
  -- Each officer awards a few points every hour.
  for o = 1, 3 do
    clients[o]:run(string.format("for i = 1, 5 do G:Submit('award', { player = 'Raider' .. i, amount = %d }) end", h % 7 + 1))
  end
  -- A member tries too: refused everywhere.
  clients[4]:run("G:Submit('award', { player = 'Me', amount = 1000 })")
  if h == 6 then away:logout() end
  if h == 12 then
    away:login()
    away:run(setup)
  end
  -- Members come and go.
  if h % 5 == 0 then clients[5]:logout() elseif h % 5 == 2 then clients[5]:login() clients[5]:run(setup) end
  tally.advance(hour)
end
if not clients[5]:eval("return IsLoggedIn()") then clients[5]:login() clients[5]:run(setup) end
tally.advance(2 * hour)
for _, c in ipairs(clients) do
  local size = c:eval("return G:Size()")
  print(string.format("%s: %d entries, lag %d", c:name(), size, c:eval("return (G:Lag())")))
  assert(c:eval("return G:State().points.Me") == nil, "a member's award got in on " .. c:name())
end
