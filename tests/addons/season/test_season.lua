-- A season on six clients: Aelric's client holds the season tools/season/season.lua wrote (a
-- first run into the same --saved folder); four clients receive both ledgers from it with
-- tally.share, each in its own scrambled order, and a fifth from a member who received it
-- (relayed: the sender is a member, the creator the guild master). Every client ends with the
-- same standings, loot list and state hashes; back online, sync finds nothing to send.
-- Run (after the generator): tally run addons --clients 6 --quiet --saved <its dir> --script test_season.lua
local clients = tally.clients()
assert(#clients >= 6, "test_season.lua needs --clients 6")
local source, brannoc, cyrielle, dagna, eowald, fenwyn = unpack(clients, 1, 6)
local LEDGERS = { "GuildDKP", "LootHistory" }

local function expect(actual, expected, what)
  if actual ~= expected then error(string.format("%s: expected %s, got %s", what, tostring(expected), tostring(actual)), 2) end
end

-- What a client shows: sizes, hashes, standings and loot list, each as one string.
local VIEW = [[
  local _, _, lag = GuildDKP.StateHash()
  local loot = LootHistory.State()
  if lag > 0 or not loot then return nil end
  local standings, items = {}, {}
  for i, row in ipairs(GuildDKP.Standings()) do standings[i] = row.name .. ":" .. row.points .. ":" .. row.alts end
  for i, id in ipairs(loot.lootOrder) do
    local l = loot.loot[id]
    items[i] = table.concat({ id, l.item, l.winner, tostring(l.price), tostring(l.disenchanted), tostring(l.boss) }, ":")
  end
  return table.concat({ GuildDKP.Size(), LootHistory.Size(), table.concat({ GuildDKP.StateHash() }, " ", 1, 2),
    table.concat({ LootHistory.StateHash() }, " ") }, " "), table.concat(standings, ","), table.concat(items, ",")
]]
local function view(c)
  local sums, standings, loot = c:eval(VIEW)
  if not sums then return nil end
  return { sums = sums, standings = standings, loot = loot }
end

-- Advances until every client in `list` shows `want` (or any view when want is nil).
local function wait_for(what, list, want, limit)
  local waited = 0
  while true do
    local done = true
    for _, c in ipairs(list) do
      local v = view(c)
      if not v or (want and (v.sums ~= want.sums or v.standings ~= want.standings or v.loot ~= want.loot)) then
        done = false
        break
      end
    end
    if done then return end
    if waited >= limit then error(what .. ": not within " .. limit .. " s of game time", 2) end
    tally.advance(0.5)
    waited = waited + 0.5
  end
end

-- The season's client replays its journals after login.
local started = os.clock()
for _, c in ipairs(clients) do
  if c ~= source then c:set_online(false) end  -- only tally.share delivers, until the end
end
wait_for("Aelric replays the season", { source }, nil, 600)
local want = view(source)
local size = source:eval("return GuildDKP.Size() + LootHistory.Size()")
assert(size > 10000, "the season is in Aelric's journals (run tools/season/season.lua first): " .. size .. " entries")
print(string.format("season: Aelric replayed %d entries in %.2f s", size, os.clock() - started))

started = os.clock()
for i, c in ipairs({ brannoc, cyrielle, dagna, eowald }) do
  for j, ledger in ipairs(LEDGERS) do tally.share(source, c, ledger, i * 100 + j) end
end
wait_for("four clients receive the season in four orders", { brannoc, cyrielle, dagna, eowald }, want, 900)
for j, ledger in ipairs(LEDGERS) do tally.share(dagna, fenwyn, ledger, 700 + j) end
wait_for("Fenwyn receives it relayed by Dagna", { fenwyn }, want, 900)
print(string.format("season: five clients received %d entries each (scrambled, authorized, replayed) in %.2f s",
  size, os.clock() - started))
for _, c in ipairs(clients) do
  local v = view(c)
  expect(v.sums, want.sums, c:name() .. ": sizes and state hashes")
  expect(v.standings, want.standings, c:name() .. ": standings")
  expect(v.loot, want.loot, c:name() .. ": loot list")
end

-- Online again: every client holds what the others hold, and sync says so.
for _, c in ipairs(clients) do c:set_online(true) end
local waited = 0
local function synced()
  for _, c in ipairs(clients) do
    for _, api in ipairs(LEDGERS) do
      local status = c:eval("return " .. api .. ".SyncStatus().state")
      if status ~= "synced" then return false end
    end
  end
  return true
end
while not synced() do
  if waited >= 300 then error("sync did not report every client synced within 300 s") end
  tally.advance(5)
  waited = waited + 5
end
for _, c in ipairs(clients) do
  expect(view(c).sums, want.sums, c:name() .. ": unchanged by sync")
  local errors = c:log(true)
  if #errors > 0 then error(c:name() .. " logged errors:\n" .. table.concat(errors, "\n")) end
end
print(string.format("season: %d clients agree (%s); sync reports synced after %d s online", #clients, want.sums, waited))
