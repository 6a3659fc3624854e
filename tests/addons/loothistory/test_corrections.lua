-- LootHistory: corrections: reassign (a trade or a mistake), disenchant, undo and redo.
-- Run: tally run <dir with LootHistory> --clients 4 --script test_corrections.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm = clients[1]
local function loot(id, field) return gm:eval("local l = LootHistory.State().loot['" .. id .. "'] return l and l." .. field) end

slash(gm, "/loot raid start Blackwing Lair")
h.settle()
slash(gm, "/loot raid boss Razorgore the Untamed")
h.settle()
local cloak = h.id(slash(gm, "/loot award 19378 [Cloak of the Brood Lord] Brannoc need slot=back price=20"))
local ring = h.id(slash(gm, "/loot award 19384 [Master Dragonslayer's Ring] Dagna greed slot=finger"))
h.settle()

-- Reassign: Brannoc traded the cloak to Cyrielle.
local out = slash(gm, "/loot reassign " .. cloak .. " Cyrielle traded inside the raid")
local moved = h.id(out)
expect_find(out, "Cloak of the Brood Lord now with Cyrielle", "reassign output")
h.settle()
expect(loot(cloak, "winner"), "Cyrielle-Tally", "new holder")
expect(loot(cloak, "originalWinner"), "Brannoc-Tally", "who won it")
expect(loot(cloak, "history[1].kind"), "reassign", "history kind")
expect(loot(cloak, "history[1].from"), "Brannoc-Tally", "history from")
expect(loot(cloak, "history[1].reason"), "traded inside the raid", "history reason")
expect_find(slash(gm, "/loot reassign " .. cloak .. " cyrielle"), "refused: Cyrielle already has it", "no-op reassign")
out = slash(gm, "/loot player Brannoc")
expect_find(out, "Brannoc has 0 item(s)", "Brannoc holds nothing")
expect_find(out, "passed on to others: 1", "what Brannoc passed on")
expect_find(slash(gm, "/loot player Cyrielle"), "(won by Brannoc)", "Cyrielle's cloak shows who won it")

-- Disenchant, by "#n".
out = slash(gm, "/loot disenchant #2 nobody needed it")
local shard = h.id(out)
h.settle()
expect(loot(ring, "disenchanted"), true, "disenchanted")
expect(loot(ring, "history[1].note"), "nobody needed it", "disenchant note")
expect_find(slash(gm, "/loot disenchant " .. ring), "already disenchanted", "twice")
expect_find(slash(gm, "/loot player Dagna"), "[disenchanted]", "shown as disenchanted")

-- Undo the reassign: the cloak is Brannoc's again. Redo: Cyrielle's again.
out = slash(gm, "/loot undo " .. moved)
local undo_move = h.id(out)
expect_find(out, "/loot redo " .. undo_move, "undo says how to redo")
h.settle()
expect(loot(cloak, "winner"), "Brannoc-Tally", "undone reassign")
expect(gm:eval("return #LootHistory.State().loot['" .. cloak .. "'].history"), 0, "no history")
out = slash(gm, "/loot redo " .. undo_move)
expect_find(out, "redone " .. moved, "redo output")
h.settle()
expect(loot(cloak, "winner"), "Cyrielle-Tally", "redone reassign")

-- Undo the disenchant.
slash(gm, "/loot undo " .. shard)
h.settle()
expect(loot(ring, "disenchanted"), false, "disenchant undone")

-- Undo the cloak itself (by "last" is the ring, so by id): gone everywhere; redo brings it
-- back with its reassignment.
local undo_cloak = h.id(slash(gm, "/loot undo " .. cloak))
h.settle()
expect(loot(cloak, "winner"), nil, "undone loot is gone")
expect(gm:eval("return #LootHistory.State().lootOrder"), 1, "one item left")
expect(gm:eval("return #LootHistory.RaidLoot()"), 1, "raid lists one item")
expect_find(slash(gm, "/loot item 19378"), "19378: 0 recorded", "no owner while undone")
slash(gm, "/loot redo " .. undo_cloak)
h.settle()
expect(loot(cloak, "winner"), "Cyrielle-Tally", "back, with the reassignment")
expect(gm:eval("return LootHistory.State().lootOrder[1]"), cloak, "back in its place (ledger order)")

-- Undo by "#n", and mistakes.
local undo_ring = h.id(slash(gm, "/loot undo #2"))
h.settle()
expect(loot(ring, "winner"), nil, "undone by #2")
expect_find(slash(gm, "/loot undo 00000000-00-0000-00000000"), "refused: no entry", "unknown id")
expect_find(slash(gm, "/loot redo " .. cloak), "usage: /loot redo", "redo needs an undo id")
slash(gm, "/loot undo " .. undo_ring)
h.settle()
expect(loot(ring, "winner"), "Dagna-Tally", "undo of the undo")
h.no_errors(clients)
print("corrections: ok")
