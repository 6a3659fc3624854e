-- LootHistory: three clients that exchange their ledgers in different orders end with the same
-- state (same StateHash, same derived tables), and entries from a non-officer are refused on
-- receipt. The clients stay offline, so only tally.share (not the ledger's sync) delivers. Needs tally.share(from, to, ledgerName [, seed]); skipped (exit 0, "SKIPPED:")
-- when the host does not have it yet.
-- Run: tally run <dir with LootHistory> --clients 3 --script test_share.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

if type(tally.share) ~= "function" then
  print("SKIPPED: tally.share is absent from this host; LootHistory's convergence test did not run")
  return
end

local clients = tally.clients()
local a, b, c = clients[1], clients[2], clients[3]  -- guild master, two officers
for _, x in ipairs(clients) do x:set_online(false) end

-- a and b record on their own, interleaved in time; b corrects one of its own items.
h.id(slash(a, "/loot raid start Molten Core"))
h.id(slash(b, "/loot raid start Molten Core name=officer-b"))
h.settle()
slash(a, "/loot raid boss Lucifron")
slash(b, "/loot raid boss Lucifron")
h.settle()
slash(a, "/loot drop 16800 [Arcanist Boots] slot=feet")
h.settle()
slash(a, "/loot roll last Cyrielle need roll=50")
slash(b, "/loot award 16801 [Arcanist Gloves] Dagna need slot=hands")
h.settle()
tally.advance(2)
local boots = h.id(slash(a, "/loot award 16800 Cyrielle need price=20"))
local gloves = h.id(slash(b, "/loot award 16802 [Arcanist Belt] Eowald greed slot=waist"))
h.settle()
slash(b, "/loot reassign " .. gloves .. " Fenwyn trade")
local typo = h.id(slash(a, "/loot award 16800 Brannoc need"))
h.settle()
slash(a, "/loot undo " .. typo)
slash(a, "/loot disenchant " .. boots)
h.settle()

-- Everyone gets everyone's entries, in different orders and seeds.
tally.share(a, b, "LootHistory", 1)
tally.share(b, a, "LootHistory", 2)
tally.share(b, c, "LootHistory", 3)
tally.share(a, c, "LootHistory", 4)
tally.advance(2)

local size = a:eval("return LootHistory.Size()")
expect(b:eval("return LootHistory.Size()"), size, "b has every entry")
expect(c:eval("return LootHistory.Size()"), size, "c has every entry")
local hash_a, print_a = a:eval("return LootHistory.StateHash()")
for _, x in ipairs({ b, c }) do
  local hash, fingerprint = x:eval("return LootHistory.StateHash()")
  expect(hash, hash_a, x:name() .. "'s state hash")
  expect(fingerprint, print_a, x:name() .. "'s content fingerprint")
end
local dump = h.dump(a)
expect(h.dump(b), dump, "b derived the same state")
expect(h.dump(c), dump, "c derived the same state")
expect(c:eval("return LootHistory.State().loot['" .. gloves .. "'].winner"), "Fenwyn-Tally", "b's correction reached c")
expect(c:eval("return LootHistory.State().loot['" .. typo .. "']"), nil, "a's undo reached c")
expect(c:eval("return #LootHistory.State().raidOrder"), 2, "both raids")

-- A reference that sorts before its target: Brannoc awards an item, Aelric gets it and, in the
-- same second, reassigns it. Entries order by (time, counter, realm, creator) and Aelric's
-- creator id is the smaller, so the reassign comes first in the ledger; it waits for its
-- target, and every client still ends with the item reassigned.
tally.advance(1 - tally.now() % 1 + 0.05)  -- the start of a second
local second = a:eval("return GetServerTime()")
local late = h.id(slash(b, "/loot award 16803 [Arcanist Belt] Dagna need slot=waist"))
tally.share(b, a, "LootHistory", 6)
tally.advance(0.1)
expect(a:eval("return LootHistory.State().loot['" .. late .. "'].winner"), "Dagna-Tally", "a has b's award")
local early = h.id(slash(a, "/loot reassign " .. late .. " Eowald traded"))
expect(tonumber(early:sub(1, 8), 16), second, "the reassign is in the award's second")
expect(tonumber(late:sub(1, 8), 16), second, "the award too")
expect(early < late, true, "and sorts before it: " .. early .. " < " .. late)
tally.share(a, b, "LootHistory", 7)
tally.share(a, c, "LootHistory", 8)
tally.advance(1)
for _, x in ipairs(clients) do
  expect(x:eval("return LootHistory.State().loot['" .. late .. "'].winner"), "Eowald-Tally", x:name() .. ": reassigned")
  expect(x:eval("return next(LootHistory.State().waiting) == nil"), true, x:name() .. ": nothing left waiting")
end
dump = h.dump(a)
expect(h.dump(b), dump, "b, after the early reference")
expect(h.dump(c), dump, "c, after the early reference")
expect(b:eval("return LootHistory.StateHash()"), a:eval("return LootHistory.StateHash()"), "hashes after the early reference")

-- A member's entries are refused on receipt, with the reason printed.
c:set_rank(3)
slash(c, "/loot officerrank 3")  -- c lets itself record, locally
local rogue = h.id(slash(c, "/loot award 19019 [Thunderfury] Cyrielle need"))
h.settle()
local before = #a:log()
tally.share(c, a, "LootHistory", 5)
tally.advance(2)
expect(a:eval("return LootHistory.State().loot['" .. rogue .. "']"), nil, "the member's award did not reach a's state")
local log = table.concat(a:log(), "\n", before + 1)
expect_find(log, "LootHistory: refused an entry from Cyrielle", "refusal printed with the sender")
expect_find(log, "Cyrielle is guild rank 3", "and why")
print("share: ok")
