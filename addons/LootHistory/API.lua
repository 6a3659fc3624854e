-- LootHistory: the read-only API other addons (and tests) may call: the global LootHistory.
local addonName, ns = ...

LootHistory = {
  -- -> the derived state (treat as read-only; fetch it again after a rewind), or nil and why.
  State = function() return ns.CurrentState() end,
  -- -> the ledger's Adler-32 of applied entries and its content fingerprint.
  StateHash = function() return ns.ledger:StateHash() end,
  Size = function() return ns.ledger:Size() end,
  PlayerLoot = function(player) return ns.Ask("playerLoot", player) end,
  ItemOwners = function(item) return ns.Ask("itemOwners", item) end,
  RaidLoot = function(raid_ref)
    local state = assert(ns.CurrentState())
    local raid, why = ns.ResolveRaid(state, raid_ref)
    if not raid then return nil, why end
    return ns.Ask("raidLoot", raid)
  end,
  RaidAttendance = function(event_id) return ns.Ask("raidAttendance", event_id) end,
  LootCounts = function(since, upto) return ns.Ask("lootCounts", since, upto) end,
  LastOfSlot = function(player, slot) return ns.Ask("lastOfSlot", player, slot) end,
  -- -> the ledger's sync status (ledger:SyncStatus(): state, peers, counters).
  SyncStatus = function() return ns.ledger:SyncStatus() end,
  -- For tools that import history (tools/season): Backdate(t) makes this client's entries take
  -- time t (and replay show only entries up to t) until Backdate(nil). Not for play: every
  -- peer rewinds to insert an entry older than its newest ones.
  Backdate = function(t)
    if t then ns.ledger:TravelTo(t) else ns.ledger:StopTravel() end
    return true
  end,
  -- Name lists as attendance entries carry them (see Names.lua): names -> entries of fields.
  PackNames = function(names) return ns.PackNames(names) end,
  UnpackNames = function(data) return ns.UnpackNames(data, {}) end,
}
