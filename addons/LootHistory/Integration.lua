-- LootHistory: records GuildDKP's won auctions, told by the GUILDDKP_AUCTION_WON message only.
local addonName, ns = ...

-- DKP entries recorded by this session, so a repeated message (before replay shows the first
-- loot entry) is not recorded twice.
local recorded = {}

-- info = { itemId, itemName, winner, price, entryId, boss (or nil), response = "bid" }
local function check(info)
  if type(info) ~= "table" then return "the message carries no table" end
  if type(info.itemId) ~= "number" or info.itemId < 1 or info.itemId ~= math.floor(info.itemId) then return "bad itemId" end
  if type(info.itemName) ~= "string" or info.itemName == "" then return "bad itemName" end
  if type(info.winner) ~= "string" or info.winner == "" then return "bad winner" end
  if type(info.price) ~= "number" or not (info.price >= 0) then return "bad price" end
  if type(info.entryId) ~= "string" or info.entryId == "" then return "bad entryId" end
  if info.boss ~= nil and (type(info.boss) ~= "string" or info.boss == "") then return "bad boss" end
  if info.response ~= nil and type(info.response) ~= "string" then return "bad response" end
end

function ns.RecordAuction(info)
  local problem = check(info)
  if problem then
    print("LootHistory: ignored GUILDDKP_AUCTION_WON: " .. problem)
    return
  end
  local state, why = ns.CurrentState()
  if not state then
    -- Still replaying after login: try again shortly rather than lose the auction.
    print("LootHistory: " .. info.itemName .. " for " .. info.winner .. " waits: " .. why)
    C_Timer.After(1, function() ns.RecordAuction(info) end)
    return
  end
  if recorded[info.entryId] or state.byDkp[info.entryId] then
    print("LootHistory: DKP entry " .. info.entryId .. " is already recorded")
    return
  end
  local id, reason = ns.RecordLoot(state, {
    item = info.itemId, name = info.itemName, winner = info.winner, price = info.price,
    response = info.response or "bid", boss = info.boss, source = "GuildDKP", dkp = info.entryId,
  })
  if id then
    recorded[info.entryId] = true
    print(string.format("LootHistory: recorded %s for %s at %s DKP (%s)", info.itemName, ns.Display(ns.FullName(info.winner)),
      tostring(info.price), id))
  else
    print("LootHistory: refused: " .. tostring(reason))
  end
end

Tally.RegisterMessage("GUILDDKP_AUCTION_WON", function(_, info)
  if ns.ledger then
    ns.RecordAuction(info)
  else
    ns.whenReady[#ns.whenReady + 1] = function() ns.RecordAuction(info) end
  end
end)
