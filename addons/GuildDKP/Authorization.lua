-- GuildDKP: who may write which entry (the ledger's authorize function).
local _, ns = ...

-- Guild rank index at or below which a member is an officer (0 is the guild master). The
-- guild master changes it with a "config" entry, so every client applies the same threshold.
ns.DEFAULT_OFFICER_RANK = 1

-- Undo and redo are ignore entries: officers only, pointing at an entry id.
local ignoreSpec = {
  right = "officer",
  validate = function(data)
    if type(data.target) ~= "string" then return false, "an undo needs a target entry id" end
    return true
  end,
}

local verbs = {
  config = "change the settings", member = "manage the roster", member_remove = "manage the roster",
  alt = "link alts", unalt = "unlink alts", award = "award points", adjust = "adjust points",
  decay = "decay points", auction = "open auctions", close = "close auctions", bid = "bid",
  __ignore = "undo or redo entries",
}

-- The officer threshold in `state` (default: the ledger's).
function ns.officerRank(state)
  state = state or (ns.ledger and ns.ledger:State())
  return state and state.config.officerRank or ns.DEFAULT_OFFICER_RANK
end

-- actor: the guild member behind the entry -> ok, reason
local function allowed(spec, entryType, data, actor, state)
  local threshold = ns.officerRank(state)
  local isOfficer = actor.rank <= threshold
  local verb = verbs[entryType] or entryType
  local who = string.format("%s (rank %d, %s)", actor.name, actor.rank, tostring(actor.rankName))
  if spec.right == "guildmaster" and actor.rank ~= 0 then
    return false, who .. " may not " .. verb .. ": guild master only"
  end
  if spec.right == "officer" and not isOfficer then
    return false, string.format("%s may not %s: officers only (rank index <= %d)", who, verb, threshold)
  end
  if spec.permit then
    local ok, reason = spec.permit(data, actor, isOfficer)
    if not ok then return false, who .. " may not " .. verb .. ": " .. reason end
  end
  return true
end

-- Received entries refused this session, so an entry offered again by every sync round is
-- reported once.
local reported = {}

-- authorize(entry, sender, stage, state) for Tally.NewLedger.
--   "submit":  this client writes the entry; sender is this character; `state` is the state
--              the entry will be applied to (with the earlier entries of its command applied).
--   "send":    sync is about to send an entry this ledger holds. Everything here was allowed
--              when it was written or received, so it goes out: withholding it would leave
--              the peers' ledgers different from this one for good.
--   "receive": the entry came from `sender` ("Name-Realm"), who may only be relaying it. The
--              *creator* (entry.creator, the last 8 hex digits of a GUID) is who wrote it, and
--              the creator's guild rank, read from this client's guild roster now, decides.
--              The sender must be in the guild: it vouches for nothing, but keeps characters
--              outside the guild (a cross-realm raider) from feeding this ledger at all.
function ns.authorize(entry, sender, stage, state)
  if stage == "send" then return true end
  state = state or ns.ledger:State()
  local spec = entry.type == "__ignore" and ignoreSpec or ns.entryTypes[entry.type]
  local ok, reason
  if not spec then
    ok, reason = false, "unknown entry type '" .. tostring(entry.type) .. "'"
  else
    local actor = ns.guild.byCreator(entry.creator)
    if not actor then
      ok, reason = false, string.format("the entry's creator %08X is not in the guild", entry.creator or 0)
    elseif stage == "receive" and not ns.guild.byName(sender) then
      ok, reason = false, "the sender " .. tostring(sender) .. " is not in the guild"
    else
      ok, reason = allowed(spec, entry.type, entry.data, actor, state)
      if ok then ok, reason = spec.validate(entry.data) end
      if ok and stage == "submit" and spec.check then ok, reason = spec.check(entry.data, state) end
    end
  end
  if not ok and stage ~= "submit" and not reported[entry.id or ""] then
    if entry.id then reported[entry.id] = true end
    print(string.format("GuildDKP: refused a %s entry from %s: %s", tostring(entry.type), tostring(sender), reason))
  end
  return ok, reason
end

-- A command's authorize (model:Command) for the right that `entryType` needs: the player
-- running it, read from the guild roster, judged as the ledger will judge its entries.
function ns.commandRight(entryType)
  local spec = ns.entryTypes[entryType]
  return function(state, _, player)
    local actor = ns.guild.byName(player)
    if not actor then return false, tostring(player) .. " is not in the guild" end
    return allowed(spec, entryType, nil, actor, state)
  end
end

------------------------------------------------------------------------------------------------
-- The officer threshold itself: a guild-master entry.

ns.defineEntry("config", {
  right = "guildmaster",
  validate = function(data)
    local rank = data.officerRank
    if type(rank) ~= "number" or rank ~= math.floor(rank) or rank < 0 or rank > 9 then
      return false, "officerRank must be a rank index 0..9"
    end
    return true
  end,
  apply = function(state, data, meta, e)
    state.config.officerRank = data.officerRank
    e.summary = "officers are ranks 0.." .. data.officerRank
  end,
})
