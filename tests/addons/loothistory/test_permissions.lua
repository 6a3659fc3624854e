-- LootHistory: only officers (guild rank index <= the threshold, default 1) may record; leading
-- the raid gives no right (other clients could not check it later). Refusals print why and
-- record nothing.
-- Run: tally run <dir with LootHistory> --clients 5 --script test_permissions.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, expect_find, slash = h.expect, h.expect_find, h.slash

local clients = tally.clients()
local gm, officer, member = clients[1], clients[2], clients[4]  -- Aelric, Brannoc, Dagna
local function size(c) return c:eval("return LootHistory.Size()") end

-- Dagna is a member (rank 3): every kind of entry is refused, with the reason.
local why = "refused: Dagna is guild rank 3 (officers are ranks 0-1)"
expect_find(slash(member, "/loot raid start Zul'Gurub"), why, "raid start refused")
expect_find(slash(member, "/loot award 19802 [Heart of Hakkar] Dagna need"), why, "award refused")
expect_find(slash(member, "/loot drop 19802 [Heart of Hakkar]"), why, "drop refused")
expect(size(member), 0, "nothing recorded")

-- Promoted to officer, she may record. Her GUID ends in D7D1B202: above 2^31, which the
-- creator lookup (string.format("%08X", creator)) must still match.
expect(member:eval("return UnitGUID('player')"):sub(-8), "D7D1B202", "a creator id above 2^31")
member:set_rank(1)
local raid = h.id(slash(member, "/loot raid start Zul'Gurub"))
local heart = h.id(slash(member, "/loot award 19802 [Heart of Hakkar] Dagna need"))
h.settle()
expect(member:eval("return LootHistory.State().loot['" .. heart .. "'].by"), "Dagna-Tally", "recorded by Dagna")

-- Demoted again: no undo, no corrections, no raid end.
member:set_rank(3)
expect_find(slash(member, "/loot undo " .. heart), why, "undo refused")
expect_find(slash(member, "/loot reassign " .. heart .. " Eowald"), why, "reassign refused")
expect_find(slash(member, "/loot disenchant " .. heart), why, "disenchant refused")
expect_find(slash(member, "/loot raid end"), why, "raid end refused")
h.settle()
expect(member:eval("return LootHistory.State().loot['" .. heart .. "'].winner"), "Dagna-Tally", "unchanged")

-- The threshold is a setting: with officers up to rank 3, the member may record.
expect_find(slash(member, "/loot officerrank"), "officers are guild ranks 0-1 (Officer)", "default threshold")
expect_find(slash(member, "/loot officerrank 9"), "rank index must be 0..4", "threshold out of range")
expect_find(slash(member, "/loot officerrank 3"), "officers are guild ranks 0-3 (Member)", "threshold raised")
h.id(slash(member, "/loot raid end"))
slash(member, "/loot officerrank 1")

-- An officer demoted to rank 2 is refused, and leading the raid changes nothing: the guild
-- master leaves, Brannoc becomes the raid's leader, and is still refused.
officer:set_rank(2)
local demoted = "refused: Brannoc is guild rank 2 (officers are ranks 0-1)"
expect_find(slash(officer, "/loot raid start Onyxia's Lair"), demoted, "rank 2")
gm:set_group(0)
expect(officer:eval("return select(2, GetRaidRosterInfo(1))"), 2, "Brannoc leads the raid now")
expect(officer:eval("return GetRaidRosterInfo(1)"), "Brannoc", "the leader")
expect_find(slash(officer, "/loot raid start Onyxia's Lair"), demoted, "leading the raid gives no right")
-- The guild master, out of the raid but rank 0, still may; demoted to rank 4, he may not.
h.id(slash(gm, "/loot raid start Molten Core"))
gm:set_rank(4)
expect_find(slash(gm, "/loot raid start Molten Core"), "refused: Aelric is guild rank 4 (officers are ranks 0-1)", "GM demoted")
h.no_errors(clients)
print("permissions: ok")
