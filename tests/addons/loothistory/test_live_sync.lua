-- LootHistory over the ledger's own sync: raids and loot an officer records reach every other
-- client, which all derive the same state (same StateHash, same tables). A member whose client
-- lets her record (her own /loot officerrank) gets her entry into her ledger only: every other
-- client refuses it. A client that was offline catches up from members: the creator's rank
-- counts, not the sender's.
-- Run: tally run <dir with LootHistory> --clients 5 --script test_live_sync.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local aelric, brannoc, cyrielle, dagna, eowald = unpack(clients, 1, 5)

local function hash(c) return table.concat({ c:eval("return LootHistory.StateHash()") }, " ") end
local function expect_same(list, reference, what)
  local want, dump = hash(reference), h.dump(reference)
  for _, c in ipairs(list) do
    expect(hash(c), want, c:name() .. ": same state hash as " .. reference:name() .. " (" .. what .. ")")
    expect(h.dump(c), dump, c:name() .. ": same state (" .. what .. ")")
  end
end

-- 1. Brannoc records a raid on his client; everyone has it a few seconds later.
slash(brannoc, "/loot raid start Molten Core")
h.settle()
slash(brannoc, "/loot raid boss Lucifron")
h.settle()
slash(brannoc, "/loot drop 16800 [Arcanist Boots] slot=feet")
h.settle()
local boots = h.id(slash(brannoc, "/loot award 16800 Dagna need price=30"))
h.settle()
slash(brannoc, "/loot reassign " .. boots .. " Eowald traded")
tally.advance(10)
expect(dagna:eval("return LootHistory.State().loot['" .. boots .. "'].winner"), "Eowald-Tally", "Dagna sees the loot and its correction")
expect_same(clients, brannoc, "after Brannoc's raid")
expect(dagna:eval("return LootHistory.SyncStatus().state"), "synced", "Dagna's client says it is in sync")
expect_find(slash(dagna, "/loot sync"), "LootHistory: sync synced", "/loot sync says so")

-- 2. Dagna (rank 3) raises her own client's threshold and records loot for herself. Her
-- ledger takes it; every other client judges the creator by its own threshold and refuses it.
local marks = {}
for _, c in ipairs(clients) do marks[c] = #c:log() end
slash(dagna, "/loot officerrank 3")
local forged = h.id(slash(dagna, "/loot award 19019 [Thunderfury] Dagna need"))
tally.advance(60)
for _, c in ipairs({ aelric, brannoc, cyrielle, eowald }) do
  expect(c:eval("return LootHistory.State().loot['" .. forged .. "'] == nil"), true, c:name() .. " refused the forged loot")
  local log = table.concat(c:log(), "\n", marks[c] + 1)
  expect_find(log, "LootHistory: refused an entry from Dagna-Tally: Dagna is guild rank 3 (officers are ranks 0-1)", c:name() .. " says why")
  local _, count = log:gsub("refused an entry", "")
  expect(count, 1, c:name() .. " reports it once, however often sync offers it")
end
expect_same({ aelric, cyrielle, eowald }, brannoc, "the forged loot counts nowhere else")
expect(hash(dagna) ~= hash(brannoc), true, "only Dagna's ledger holds it")

-- 3. Cyrielle logs out; Brannoc records more and goes offline with Aelric. Back in, Cyrielle
-- gets Brannoc's entries from the members online (Dagna, Eowald) and keeps them.
cyrielle:logout()
local edge = h.id(slash(brannoc, "/loot award 17076 [Bonereaver's Edge] Eowald bid price=80"))
tally.advance(10)
brannoc:set_online(false)
aelric:set_online(false)
cyrielle:login()
tally.advance(60)
expect(cyrielle:eval("return LootHistory.State().loot['" .. edge .. "'].winner"), "Eowald-Tally", "relayed by a member")
expect(cyrielle:eval("return LootHistory.State().loot['" .. forged .. "'] == nil"), true, "the forged entry still refused")
expect_same({ cyrielle, eowald }, brannoc, "after the relay")
brannoc:set_online(true)
aelric:set_online(true)
tally.advance(30)
expect_same({ aelric, cyrielle, eowald }, brannoc, "everyone back online")
h.no_errors(clients)
print("live sync: ok")
