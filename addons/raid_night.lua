-- A raid night on six clients, every addon ledger synced: the guild master and two officers
-- run Molten Core with GuildDKP and LootHistory, members bid from their own clients, one member
-- drops out mid-raid and comes back, and every client ends with the same standings and loot.
-- Run: tally run addons --clients 6 --saved <fresh dir> --script addons/raid_night.lua
local clients = tally.clients()
assert(#clients >= 6, "raid_night.lua needs --clients 6 (or more)")
local aelric, brannoc, cyrielle, dagna, eowald, fenwyn = unpack(clients, 1, 6)

-- Types a command into a client and echoes it, as the player would see it typed.
local function say(client, command)
  print(string.format("%-9s> %s", client:name(), command))
  client:slash(command)
end

-- The seconds an entry takes to reach every other client: pushed within a few seconds.
local function settle(seconds) tally.advance(seconds or 6) end

local function section(title) print("\n== " .. title) end

------------------------------------------------------------------------------------------------
section("19:00 the raid forms")
say(aelric, "/dkp roster import")                       -- the guild roster seeds the DKP roster
say(aelric, "/loot raid start Molten Core name=Tuesday")
settle()
say(aelric, "/dkp award raid 10 on_time")

section("Lucifron")
say(brannoc, "/loot raid boss Lucifron")
say(brannoc, "/dkp award raid 15 boss_kill Lucifron")
say(cyrielle, "/loot drop 16800 [Arcanist Boots] slot=feet")
say(cyrielle, "/dkp auction open 16800 Arcanist Boots min=10 open boss=Lucifron")
settle()                                                -- the auction reaches the members
say(dagna, "/dkp bid 15")
say(eowald, "/dkp bid 20")
settle(3)
say(dagna, "/dkp bid 25")                               -- an open auction: everyone sees the raise
settle()
say(cyrielle, "/dkp auction close 1")                   -- LootHistory records the sale on Cyrielle's client

section("Magmadar: a sealed auction")
say(brannoc, "/loot raid boss Magmadar")
say(brannoc, "/dkp award raid 15 boss_kill Magmadar")
say(brannoc, "/dkp auction open 18203 Eskhandar's Right Claw min=10 sealed boss=Magmadar")
settle()
say(fenwyn, "/dkp bid 30")                              -- whispered to Brannoc, in no ledger yet
say(eowald, "/dkp bid 30")
settle(3)
say(brannoc, "/dkp auction show 2")
say(brannoc, "/dkp auction close 2")                    -- the sealed bids enter the ledger now

section("Dagna disconnects")
dagna:logout()                                          -- journal and SavedVariables written
say(aelric, "/loot raid boss Garr")
say(aelric, "/dkp award raid 15 boss_kill Garr")
say(aelric, "/dkp auction open 18822 Obsidian Edged Blade min=10 vickrey boss=Garr")
settle()
say(eowald, "/dkp bid 40")
say(fenwyn, "/dkp bid 25")
settle(3)
say(aelric, "/dkp auction close 3")                     -- second price: Eowald pays 25
say(brannoc, "/dkp award Eowald 100 manual")           -- a slip...
say(brannoc, "/dkp undo last")                          -- ...undone at once

section("Dagna is back")
dagna:login()                                           -- replays her journal, sync brings the rest
settle(20)
say(dagna, "/dkp standings")

section("Ragnaros")
say(cyrielle, "/loot raid boss Ragnaros")
say(cyrielle, "/dkp award raid 20 boss_kill Ragnaros")
say(aelric, "/dkp roster add Garruk WARRIOR")
say(aelric, "/dkp bench add Garruk")
say(aelric, "/dkp award standby 10 standby Ragnaros")   -- the bench is paid too
say(aelric, "/dkp auction open 17076 Bonereaver's Edge min=20 open boss=Ragnaros")
settle()
say(dagna, "/dkp bid 30")
say(fenwyn, "/dkp bid 35")
settle()
say(aelric, "/dkp auction close 4")
say(aelric, "/loot raid end")
say(aelric, "/dkp decay 10")

------------------------------------------------------------------------------------------------
-- Every client ends with the same ledgers: same entries, same state hash, same tables.

local LOOT = [[
  local state, lines = LootHistory.State(), {}
  for i, id in ipairs(state.lootOrder) do
    local l = state.loot[id]
    lines[i] = string.format("%-24s %-8s %4s DKP  %s, %s", l.name, Ambiguate(l.winner, "none"), tostring(l.price or "-"),
      tostring(l.boss), l.instance or "?")
  end
  return table.concat(lines, "\n")
]]
local STANDINGS = [[
  local lines = {}
  for i, row in ipairs(GuildDKP.Standings()) do lines[i] = string.format("%2d. %-10s %-8s %5d", i, row.name, row.class, row.points) end
  return table.concat(lines, "\n")
]]
local function view(c)
  local dkp = { c:eval("return GuildDKP.StateHash()") }
  local loot = { c:eval("return LootHistory.StateHash()") }
  return { hash = table.concat({ dkp[1], dkp[2], loot[1], loot[2] }, " "), standings = c:eval(STANDINGS), loot = c:eval(LOOT) }
end

local function agreed()
  local first = view(aelric)
  for _, c in ipairs(clients) do
    local v = view(c)
    if v.hash ~= first.hash or v.standings ~= first.standings or v.loot ~= first.loot then return nil end
  end
  return first
end

local final
for _ = 1, 30 do
  settle(5)
  final = agreed()
  if final then break end
end
if not final then
  for _, c in ipairs(clients) do print(c:name() .. ": " .. view(c).hash) end
  error("the clients did not agree within 150 s")
end

section("Standings (the same on all " .. #clients .. " clients)")
print(final.standings)
section("Loot")
print(final.loot)
print(string.format("\nstate hashes (GuildDKP adler fingerprint, LootHistory adler fingerprint): %s", final.hash))

for _, c in ipairs(clients) do
  local errors = c:log(true)
  assert(#errors == 0, c:name() .. " logged errors:\n" .. table.concat(errors, "\n"))
end
