-- LootHistory: attendance snapshots are a saga (Raids.lua): the client that recorded a raid
-- start, boss kill or raid end writes the snapshot exactly once, not again after a rewind, a
-- reload or on another client that holds the same entries.
-- Run: tally run <dir with LootHistory> --clients 3 --script test_attendance_saga.lua
local h = dofile(debug.getinfo(1, "S").source:match("^@(.*[/\\])") .. "helpers.lua")
local expect, slash = h.expect, h.slash

local clients = tally.clients()
local gm, officer = clients[1], clients[2]
local function size(c) return c:eval("return LootHistory.Size()") end
local function parts(c, event)
  return c:eval("local s = LootHistory.State().snapshots['" .. event .. "'] return s and s.have")
end

local raid = h.id(slash(gm, "/loot raid start Molten Core"))
local boss = h.id(slash(gm, "/loot raid boss Lucifron"))
-- Each event, its one attendance entry and the saga's mark: 6 entries, written at once.
expect(size(gm), 6, "two events, their snapshots and the saga marks")
expect(parts(gm, raid), 1, "the start snapshot")
expect(parts(gm, boss), 1, "the boss snapshot")
expect(gm:eval("return #(LootHistory.RaidAttendance('" .. boss .. "'))"), 3, "every raid member")
tally.advance(30)
expect(size(officer), 6, "the officer holds the same entries")
expect(officer:eval("return #(LootHistory.RaidAttendance('" .. raid .. "'))"), 3, "and sees the snapshot")
tally.advance(5)
expect(size(officer), 6, "the officer did not act on the gm's events")

-- A backdated entry lands before both events: the gm rewinds past them and does not act again.
gm:run("LootHistory.Backdate(GetServerTime() - 3600)")
h.id(slash(gm, "/loot drop 19802 [Heart of Hakkar]"))
gm:run("LootHistory.Backdate(nil)")
tally.advance(30)
expect(gm:eval("return LootHistory.State().raids['" .. raid .. "'] ~= nil"), true, "replayed past the raid")
expect(size(gm), 7, "a rewind writes no second snapshot")
expect(parts(gm, boss), 1, "still one boss snapshot")
expect(size(officer), 7, "nor does the officer's rewind")

-- After a reload the gm replays its journal: the events are done, nothing is written.
gm:logout()
gm:login()
tally.advance(30)
expect(size(gm), 7, "a reload writes no second snapshot")
expect(parts(gm, raid), 1, "one start snapshot after the reload")

-- The officer's own raid end: its snapshot comes from the officer's client.
local ended = h.id(slash(officer, "/loot raid end"))
tally.advance(30)
expect(parts(gm, ended), 1, "the end snapshot, synced to the gm")
expect(size(gm), 10, "the end, its snapshot and mark, once")
expect(size(officer), 10, "the same on the officer")
expect(gm:eval("return LootHistory.StateHash()"), officer:eval("return LootHistory.StateHash()"), "same state hash")
h.no_errors(clients)
print("attendance saga: ok")
