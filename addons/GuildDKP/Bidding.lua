-- GuildDKP: running auctions live: opening, bidding, closing. The ledger's sync carries the
-- auction, open bids and the close to every client; sealed bids are whispered to the officer
-- who opened the auction and enter the ledger only when it closes.
local _, ns = ...

local PREFIX = "GuildDKP"  -- sealed bids and their answers (the ledger syncs under its own prefix)
local SEP = "\t"

-- Messages wait in order while the game throttles the prefix or the channel (10 messages,
-- then 1 per second), and go out as the allowance comes back.
local queue, retrying = {}, false
local THROTTLED = { [3] = true, [8] = true }

local function flush()
  retrying = false
  while queue[1] do
    local m = queue[1]
    local result = C_ChatInfo.SendAddonMessage(PREFIX, m[1], m[2], m[3])
    if THROTTLED[result] then
      retrying = true
      C_Timer.After(0.25, flush)
      return
    end
    table.remove(queue, 1)
    if result ~= 0 and m[2] == "WHISPER" then
      print("GuildDKP: could not send to " .. tostring(m[3]) .. " (result " .. tostring(result) .. ")")
    end
  end
end

local function whisper(target, ...)
  queue[#queue + 1] = { strjoin(SEP, ...), "WHISPER", target }
  if not retrying then flush() end
end

local function label(a) return string.format("#%d %s", a.num, a.item) end

-- The officer who opened an auction, as "Name-Realm" (whisper target), or nil.
local function openerOf(a)
  local member = ns.guild.byCreator(a.opener)
  return member and member.full
end

local function iOpened(a)
  local _, myId = ns.me()
  return a.opener == myId
end

------------------------------------------------------------------------------------------------
-- Sealed bids held by the auctioneer: GuildDKP_Local.sealed[auction id] = array of
-- { bidder, amount } in the order of each bidder's latest bid (a raise moves to the end, as a
-- raised open bid counts from the time of the raise). Saved per character, so a reload
-- during the raid keeps them.

local function sealedBids(id)
  GuildDKP_Local.sealed = GuildDKP_Local.sealed or {}
  return GuildDKP_Local.sealed[id]
end

-- -> true, or nil and why. `bidder` is a normalized name; `byOfficer` when an officer records it.
local function holdSealed(a, bidder, amount, byOfficer)
  if a.status ~= "open" then return nil, "auction #" .. a.num .. " is closed" end
  if not ns.isValidName(bidder) then return nil, "a bid needs a bidder" end
  if not ns.isWhole(amount, 0, 1000000) then return nil, "a bid is a whole number of points" end
  if amount ~= 0 and amount < a.min then return nil, string.format("%d is below the minimum bid of %d", amount, a.min) end
  if not byOfficer and not ns.guild.byName(bidder) then return nil, bidder .. " is not in the guild" end
  GuildDKP_Local.sealed = GuildDKP_Local.sealed or {}
  local list = GuildDKP_Local.sealed[a.id] or {}
  for i = #list, 1, -1 do
    if list[i].bidder == bidder then table.remove(list, i) end
  end
  list[#list + 1] = { bidder = bidder, amount = amount }
  GuildDKP_Local.sealed[a.id] = list
  return true
end

------------------------------------------------------------------------------------------------
-- Opening

-- "|cff..|Hitem:19019:...|h[Thunderfury]|h|r" or "19019 Thunderfury" -> itemId, item name
-- ("Thunderfury" alone -> 0, refused: other addons need the id)
local function parseItem(text)
  local id, name = strmatch(text, "|Hitem:(%d+)[^|]*|h%[(.-)%]|h")
  if id then return tonumber(id), name end
  id, name = strmatch(text, "^(%d+)%s+(.+)$")
  if id then return tonumber(id), name end
  return 0, text
end

-- "<item> [min=N] [cap=N] [open|sealed|vickrey] [zerosum] [boss=Name_With_Underscores]":
-- options are read from the end of the line, the rest is the item.
function ns.openAuction(text)
  local words = {}
  for w in gmatch(text or "", "%S+") do words[#words + 1] = w end
  local data = { mode = "sealed", min = 1, cap = 0, zerosum = false }
  while #words > 1 do
    local w = strlower(words[#words])
    local key, value = strmatch(w, "^(%a+)=(.+)$")
    if ns.AUCTION_MODES[w] then data.mode = w
    elseif w == "zerosum" then data.zerosum = true
    elseif key == "min" or key == "cap" then data[key] = tonumber(value)
    elseif key == "boss" then data.boss = gsub(strmatch(words[#words], "=(.+)$"), "_", " ")
    else break end
    words[#words] = nil
  end
  if #words == 0 then
    print("GuildDKP: /dkp auction open <item> [min=N] [cap=N] [open|sealed|vickrey] [zerosum] [boss=Name]")
    return
  end
  data.itemId, data.item = parseItem(table.concat(words, " "))
  local id = ns.submit("auction", data, true)
  if not id then return end
  local a = ns.auction(ns.state(), id)
  print(string.format("GuildDKP: auction %s open (%s, min %d%s%s) - /dkp bid <amount> %d   [%s]", label(a),
    a.mode, a.min, a.cap > 0 and (", cap " .. a.cap) or "", a.zerosum and ", zero-sum" or "", a.num, id))
  return id
end

------------------------------------------------------------------------------------------------
-- Bidding

-- /dkp bid <amount> [auction]; bidder defaults to this character (officers may name another).
-- Open auctions: the bid is an entry, synced to every client (the auctioneer's included).
-- Sealed and second-price auctions: the bid is whispered to the officer who opened it.
function ns.placeBid(amount, ref, bidder)
  local me = ns.me()
  bidder = bidder and ns.normalizeName(bidder) or me
  amount = tonumber(amount)
  if not amount then
    print("GuildDKP: /dkp bid <amount> [auction number]")
    return
  end
  local state = ns.state()
  local a, reason = ns.findAuction(state, ref)
  if not a then
    print("GuildDKP: refused: " .. (reason or "no auction") .. " (a new auction reaches this client a few seconds after it opens)")
    return
  end
  if a.status ~= "open" then
    print("GuildDKP: refused: auction " .. label(a) .. " is closed")
    return
  end
  local capped = a.cap > 0 and amount > a.cap and string.format(" (counts as the cap, %d)", a.cap) or ""
  if a.mode == "open" then
    local id = ns.submit("bid", { auction = a.id, bidder = bidder, amount = amount }, true)
    if id then print(string.format("GuildDKP: %s bid %d on %s%s", bidder, amount, label(a), capped)) end
    return id
  end
  -- Sealed: the same rules as a bid entry, checked here so the bidder hears at once.
  local ok, why = ns.authorize({ type = "bid", creator = select(2, ns.me()),
    data = { auction = a.id, bidder = bidder, amount = amount } }, me, "submit")
  if not ok then
    print("GuildDKP: refused: " .. tostring(why))
    return
  end
  if iOpened(a) then
    local held, problem = holdSealed(a, bidder, amount, true)
    if not held then
      print("GuildDKP: refused: " .. problem)
      return
    end
    print(string.format("GuildDKP: %s bid %d on %s (sealed)%s", bidder, amount, label(a), capped))
    return true
  end
  local opener = openerOf(a)
  if not opener then
    print("GuildDKP: refused: the officer who opened " .. label(a) .. " is not in the guild")
    return
  end
  whisper(opener, "SEALED", a.id, bidder, amount)
  print(string.format("GuildDKP: %s's sealed bid of %d on %s sent to %s%s", bidder, amount, label(a),
    Ambiguate(opener, "none"), capped))
  return true
end

------------------------------------------------------------------------------------------------
-- Closing

-- Records the sealed bids this client holds for auction `a` as bid entries (in the order they
-- count), just before the close. -> true, or nil when one was refused.
local function recordSealed(a)
  for _, bid in ipairs(sealedBids(a.id) or {}) do
    if bid.amount > 0 and not ns.submit("bid", { auction = a.id, bidder = bid.bidder, amount = bid.amount }, true) then
      return nil
    end
  end
  return true
end

-- /dkp auction close|cancel <auction>: records the result and announces it to other addons.
function ns.closeAuction(ref, cancel)
  local state = ns.state()
  local a, reason = ns.findAuction(state, ref)
  if not a then
    print("GuildDKP: refused: " .. reason)
    return
  end
  if a.status ~= "open" then
    print("GuildDKP: refused: auction " .. label(a) .. " is already closed")
    return
  end
  if not cancel and a.mode ~= "open" then
    if not iOpened(a) then
      print(string.format("GuildDKP: refused: the sealed bids of %s went to %s, who opened it; only they can close it (or cancel it: /dkp auction cancel %d)",
        label(a), Ambiguate(openerOf(a) or "?", "none"), a.num))
      return
    end
    if not recordSealed(a) then return end
    state = ns.state()
    a = ns.auction(state, a.id)
  end
  local winner, price, counted = nil, 0, 0
  if not cancel then winner, price, counted = ns.resolveAuction(a, state) end
  local data = { auction = a.id, winner = winner or "", price = winner and price or 0, bids = counted }
  if a.zerosum and winner then
    local names = {}
    for _, m in ipairs(ns.raidMembers()) do names[#names + 1] = m.name end
    local chunks = ns.packList(names, 800)
    if #chunks > 1 then
      print("GuildDKP: refused: the raid's names do not fit in one close entry for the zero-sum share")
      return
    end
    for k, v in pairs(chunks[1] or {}) do data[k] = v end
  end
  local id = ns.submit("close", data, true)
  if not id then return end
  if GuildDKP_Local.sealed then GuildDKP_Local.sealed[a.id] = nil end
  if winner then
    print(string.format("GuildDKP: auction %s won by %s for %d (%d bids)   [%s]", label(a), winner, price, counted, id))
    -- Other addons (LootHistory) hear of the sale from the client that closed it, once.
    Tally.SendMessage("GUILDDKP_AUCTION_WON", { itemId = a.itemId, itemName = a.item, winner = winner,
      price = price, entryId = id, boss = a.boss, response = "bid" })
  else
    print(string.format("GuildDKP: auction %s closed without a sale   [%s]", label(a), id))
  end
  return id
end

------------------------------------------------------------------------------------------------
-- Sealed bids by whisper: "SEALED id bidder amount" to the auctioneer, "ACK id amount" or
-- "NACK id reason" back.

local handlers = {}

function handlers.SEALED(sender, id, bidder, amount)
  local a = ns.auction(ns.state(), id or "")
  if not a or not iOpened(a) then return whisper(sender, "NACK", id or "", "that auction was not opened by me") end
  bidder = ns.normalizeName(bidder)
  amount = tonumber(amount)
  local from = ns.guild.byName(sender)
  local isOfficer = from and from.rank <= ns.officerRank()
  local ok, reason
  if not from then
    ok, reason = nil, "you are not in the guild"
  elseif bidder ~= from.name and not isOfficer then
    ok, reason = nil, "members may bid only as themselves"
  else
    ok, reason = holdSealed(a, bidder, amount, isOfficer)
  end
  if not ok then return whisper(sender, "NACK", id, strsub(tostring(reason), 1, 200)) end
  print(string.format("GuildDKP: %s bid (sealed) on %s", bidder, label(a)))
  whisper(sender, "ACK", id, amount)
end

function handlers.ACK(sender, id, amount)
  local a = ns.auction(ns.state(), id or "")
  print(string.format("GuildDKP: %s holds your sealed bid of %s%s", Ambiguate(sender, "none"), tostring(amount),
    a and (" on " .. label(a)) or ""))
end

function handlers.NACK(sender, id, reason)
  print(string.format("GuildDKP: %s refused your bid: %s", Ambiguate(sender, "none"), tostring(reason)))
end

C_ChatInfo.RegisterAddonMessagePrefix(PREFIX)
local frame = CreateFrame("Frame")
frame:RegisterEvent("CHAT_MSG_ADDON")
frame:SetScript("OnEvent", function(_, _, prefix, text, _, sender)
  if prefix ~= PREFIX or not ns.ledger then return end
  local parts = { strsplit(SEP, text) }
  local handler = handlers[parts[1]]
  if handler then handler(sender, unpack(parts, 2)) end
end)

------------------------------------------------------------------------------------------------
-- Notices: auctions, open bids and results that other clients wrote reach this one by sync;
-- each is printed once when it is applied, if it is recent (a login replaying the season says
-- nothing).

local NOTICE_SECONDS = 300
local NOTICED = { auction = true, bid = true, close = true }
local noticed = {}

-- Prints the recent auction, bid and close entries other clients created, once each. Only
-- once everything received is applied: entries arrive in any order (a bid before its auction),
-- and a half-received auction would be told wrong.
function ns.printNotices()
  local applying, receiving = ns.ledger:Lag()
  if applying > 0 or receiving > 0 then return end
  local state = ns.ledger:State()
  local _, myId = ns.me()
  local since = GetServerTime() - NOTICE_SECONDS
  local fresh = {}
  for i = #state.log, 1, -1 do
    local record = state.log[i]
    local id, entryType, t, creator = strmatch(record, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)")
    if tonumber(t) < since then break end
    -- A bid or close whose auction has not arrived yet is told once the auction is here.
    local waiting = false
    if entryType ~= "auction" and NOTICED[entryType] then
      local _, data = ns.ledger:Entry(id)
      waiting = data and state.auctions[data.auction] == nil
    end
    if NOTICED[entryType] and tonumber(creator) ~= myId and not noticed[id] and not waiting then
      noticed[id] = true
      local summary = ns.parseRecord(record).summary
      if entryType == "auction" then
        local num = strmatch(summary, "^auction #(%d+)")
        summary = string.format("%s: %s - /dkp bid <amount> %s", ns.guild.creatorName(tonumber(creator)), summary, tostring(num))
      end
      if not strfind(summary, "(sealed)", 1, true) then fresh[#fresh + 1] = summary end
    end
  end
  for i = #fresh, 1, -1 do print("GuildDKP: " .. fresh[i]) end
end

-- The names of the sealed bids this client holds for an auction (it opened it), sorted.
function ns.sealedBidders(id)
  local names = {}
  for _, bid in ipairs(sealedBids(id) or {}) do
    if bid.amount > 0 then names[#names + 1] = bid.bidder end
  end
  table.sort(names)
  return names
end
