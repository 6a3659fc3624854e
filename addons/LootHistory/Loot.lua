-- LootHistory: recording drops, rolls, awards and their corrections (reassign, disenchant).
local addonName, ns = ...

-- Checked by the commands (not by authorize, so a newer client's new words still sync).
ns.RESPONSES = { "need", "greed", "offspec", "transmog", "disenchant", "bid" }
ns.ROLL_RESPONSES = { "need", "greed", "offspec", "transmog", "disenchant", "bid", "pass" }
ns.SLOTS = { "head", "neck", "shoulder", "back", "chest", "wrist", "hands", "waist", "legs", "feet",
             "finger", "trinket", "mainhand", "offhand", "onehand", "twohand", "shield", "holdable",
             "ranged", "wand", "relic", "bag", "token", "misc" }

local function me() return ns.FullName(UnitName("player")) end

-- The name an item was recorded under before, or "item:<id>".
function ns.ItemName(state, item)
  for i = #state.lootOrder, 1, -1 do
    local loot = state.loot[state.lootOrder[i]]
    if loot.item == item then return loot.name end
  end
  for i = #state.dropOrder, 1, -1 do
    local drop = state.drops[state.dropOrder[i]]
    if drop.item == item then return drop.name end
  end
  return "item:" .. item
end

-- The oldest drop of `item` in `raid` nobody has been awarded yet, or nil.
local function pending_drop(state, raid, item)
  if not raid then return nil end
  for i = 1, #raid.drops do
    local drop = state.drops[raid.drops[i]]
    if drop and drop.item == item and not drop.awarded then return drop end
  end
  return nil
end

-- Records that `item` dropped now, from the open raid's newest boss kill (or options.boss).
-- The drop keeps the boss and instance of the moment it dropped, whenever it is awarded.
-- -> drop id, or nil and why.
function ns.RecordDrop(state, item, name, options)
  local raid = ns.OpenRaid(state)
  local last = ns.LastBoss(raid)
  return ns.ledger:Submit("drop", {
    item = item, name = name or ns.ItemName(state, item), slot = options.slot,
    raid = raid and raid.id, boss = options.boss or (last and last.boss),
    instance = options.instance or (last and last.instance) or (raid and raid.instance), by = me(),
  })
end

-- Records someone's roll or bid on a drop. -> roll entry id, or nil and why.
function ns.RecordRoll(drop, player, response, roll, bid, note)
  return ns.ledger:Submit("roll", { drop = drop.id, player = ns.FullName(player), response = response,
                                    roll = roll, bid = bid, note = note, by = me() })
end

-- Records an award. `award` = { item, name, winner, response, price, slot, boss, instance,
-- drop (record), note, source, dkp }. Boss and instance come, in this order, from: what the
-- caller gives (context "given", or "auction" from GuildDKP), the item's pending drop
-- ("drop": drop time, not award time), the open raid's newest boss kill ("lastKill"); else
-- none ("none"). -> loot entry id, or nil and why.
function ns.RecordLoot(state, award)
  local raid = ns.OpenRaid(state)
  local drop = award.drop or pending_drop(state, raid, award.item)
  if drop and drop.raid then raid = state.raids[drop.raid] or raid end
  local data = {
    item = award.item, name = award.name or (drop and drop.name) or ns.ItemName(state, award.item),
    winner = ns.FullName(award.winner), response = award.response, price = award.price,
    slot = award.slot or (drop and drop.slot), raid = raid and raid.id, drop = drop and drop.id,
    dkp = award.dkp, note = award.note, source = award.source or "manual", by = me(),
  }
  if award.boss then
    data.context = award.source == "GuildDKP" and "auction" or "given"
    data.boss = award.boss
    data.instance = award.instance or (drop and drop.instance) or (raid and raid.instance)
    data.dropTime = drop and drop.time
  elseif drop then
    data.context, data.boss, data.instance, data.dropTime = "drop", drop.boss, drop.instance, drop.time
  else
    local last = ns.LastBoss(raid)
    if last then
      data.context, data.boss, data.instance, data.dropTime = "lastKill", last.boss, last.instance, last.time
    else
      data.context, data.instance = "none", raid and raid.instance
    end
  end
  return ns.ledger:Submit("loot", data)
end

-- Gives a recorded item to someone else (a trade, or the wrong winner). -> entry id or nil, why.
function ns.Reassign(loot, to, reason)
  local target = ns.FullName(to)
  if target == loot.winner then return nil, ns.Display(target) .. " already has it" end
  return ns.ledger:Submit("reassign", { loot = loot.id, to = target, reason = reason, by = me() })
end

-- Marks a recorded item as disenchanted. -> entry id, or nil and why.
function ns.Disenchant(loot, note)
  if loot.disenchanted then return nil, "already disenchanted" end
  return ns.ledger:Submit("disenchant", { loot = loot.id, note = note, by = me() })
end

-- Undo: ignores any entry; redo: ignore the ignore entry. -> ignore entry id, or nil and why.
function ns.Undo(id)
  return ns.ledger:Ignore(id)
end
