-- GuildDKP: loot auctions as entries (open, bid, close) and the rules that pick the winner.
local _, ns = ...

local MAX_PRICE = 1000000
local MODES = { open = true, sealed = true, vickrey = true }
ns.AUCTION_MODES = MODES

------------------------------------------------------------------------------------------------
-- The rules (pure functions: the closing client and every replay use the same ones)

-- A bid counts when it is at least the minimum; above the cap it counts as the cap.
local function effective(a, amount)
  if amount < a.min then return nil end
  if a.cap > 0 and amount > a.cap then return a.cap end
  return amount
end

-- The counted bids of an auction, best first:
--   1. the higher effective amount;
--   2. on equal amounts, the bidder whose main has more points when the auction closes;
--   3. then the earlier bid in ledger order (a raised bid takes the time of the raise).
function ns.rankBids(a, state)
  local ranked = {}
  for _, bid in ipairs(a.bids) do
    local amount = effective(a, bid.amount)
    if amount then
      ranked[#ranked + 1] = { bidder = bid.bidder, amount = amount, bid = bid.amount, seq = bid.seq,
        balance = state.points[ns.mainOf(state, bid.bidder)] or 0 }
    end
  end
  table.sort(ranked, function(x, y)
    if x.amount ~= y.amount then return x.amount > y.amount end
    if x.balance ~= y.balance then return x.balance > y.balance end
    return x.seq < y.seq
  end)
  return ranked
end

-- -> winner, price, counted bids (winner nil when nobody bid). Open and sealed auctions: the
-- winner pays their (capped) bid. Vickrey: the second-best counted amount, or the minimum bid
-- when there is no second bid.
function ns.resolveAuction(a, state)
  local ranked = ns.rankBids(a, state)
  local best = ranked[1]
  if not best then return nil, 0, 0 end
  local price = best.amount
  if a.mode == "vickrey" then price = ranked[2] and ranked[2].amount or a.min end
  return best.bidder, price, #ranked
end

-- Zero-sum shares of `price` among the mains of `names`: everyone gets floor(price / n); the
-- remainder r goes one point each to r consecutive mains in sorted name order, starting at
-- position (k mod n) + 1 where k counts the zero-sum auctions closed before (so the same
-- names are not always first). -> array of { main, share }, summing to price exactly.
function ns.zeroSumShares(state, names, price)
  local mains = {}
  for _, name in ipairs(names) do mains[#mains + 1] = ns.mainOf(state, name) end
  mains = ns.sortedUnique(mains)
  local n = #mains
  if n == 0 then return {} end
  local share = math.floor(price / n)
  local remainder = price - share * n
  local start = state.zeroSumCount % n
  local shares = {}
  for i, main in ipairs(mains) do
    local extra = ((i - 1 - start) % n) < remainder and 1 or 0
    shares[i] = { main, share + extra }
  end
  return shares
end

------------------------------------------------------------------------------------------------
-- Closed auctions are kept as one string each (the state is copied into checkpoints; strings
-- are shared, tables are not): the fields below joined by TAB, the ranking at the close as
-- "bidder US amount US bid" joined by RS.

local US, RS = "\31", "\30"
local CLOSED_FIELDS = { "id", "num", "itemId", "item", "mode", "min", "cap", "zerosum", "boss", "opened", "opener",
  "status", "winner", "price", "closeId", "closed", "counted", "mismatch" }
local NUMBERS = { num = true, itemId = true, min = true, cap = true, opened = true, opener = true, price = true,
  closed = true, counted = true }

local function packClosed(a)
  local values = {}
  for i, key in ipairs(CLOSED_FIELDS) do
    local v = a[key]
    if key == "zerosum" then v = v and 1 or 0 end
    values[i] = v == nil and "" or ns.clean(v)
  end
  local ranking = {}
  for i, r in ipairs(a.ranking) do ranking[i] = table.concat({ r.bidder, r.amount, r.bid }, US) end
  values[#values + 1] = table.concat(ranking, RS)
  return table.concat(values, "\t")
end

local function unpackClosed(text)
  local values, a = { strsplit("\t", text) }, { bids = {}, ranking = {} }
  for i, key in ipairs(CLOSED_FIELDS) do
    local v = values[i]
    if v == "" then v = nil elseif NUMBERS[key] then v = tonumber(v) end
    a[key] = v
  end
  a.zerosum = a.zerosum == "1"
  for item in gmatch(values[#CLOSED_FIELDS + 1] or "", "[^" .. RS .. "]+") do
    local bidder, amount, bid = strsplit(US, item)
    a.ranking[#a.ranking + 1] = { bidder = bidder, amount = tonumber(amount), bid = tonumber(bid) }
  end
  return a
end

-- The auction opened by entry `id`: its table while open, a table read from its string once
-- closed (a copy: changing it changes nothing). nil when unknown.
function ns.auction(state, id)
  local a = state.auctions[id]
  if type(a) == "string" then return unpackClosed(a) end
  return a
end

function ns.isOpen(state, id) return type(state.auctions[id]) == "table" end

------------------------------------------------------------------------------------------------
-- "auction" { itemId, item, mode, min, cap, zerosum, boss? }: opens an auction; its id is the
-- auction's key, its number (order in the ledger) is for typing.

local function validText(text, most)
  return type(text) == "string" and text ~= "" and #text <= most and not strfind(text, "%c")
end

ns.defineEntry("auction", {
  right = "officer",
  validate = function(data)
    if not ns.isWhole(data.itemId, 1, 2 ^ 31) then return false, "an auction needs the item's id (an item link, or the id before the name)" end
    if not validText(data.item, 100) then return false, "an auction needs an item name (at most 100 bytes)" end
    if not MODES[data.mode] then return false, "mode must be open, sealed or vickrey" end
    if not ns.isWhole(data.min, 1, MAX_PRICE) then return false, "minimum bid must be 1.." .. MAX_PRICE end
    if not ns.isWhole(data.cap, 0, MAX_PRICE) then return false, "cap must be 0 (none) or a whole number" end
    if data.cap > 0 and data.cap < data.min then return false, "cap is below the minimum bid" end
    if type(data.zerosum) ~= "boolean" then return false, "zerosum is true or false" end
    if data.boss ~= nil and not validText(data.boss, 100) then return false, "boss is a name" end
    return true
  end,
  apply = function(state, data, meta, e)
    local id = meta.id
    local a = { id = id, num = #state.auctionOrder + 1, itemId = data.itemId, item = data.item, mode = data.mode,
      min = data.min, cap = data.cap, zerosum = data.zerosum, boss = data.boss, opened = meta.time, opener = meta.creator,
      status = "open", bids = {}, bidIndex = {}, seq = 0 }
    state.auctions[id] = a
    state.auctionOrder[a.num] = id
    e.summary = string.format("auction #%d opened: %s (%s, min %d%s%s)", a.num, a.item, a.mode, a.min,
      a.cap > 0 and (", cap " .. a.cap) or "", a.zerosum and ", zero-sum" or "")
  end,
})

------------------------------------------------------------------------------------------------
-- "bid" { auction, bidder, amount }: a member's bid (0 withdraws it). Members bid only as
-- themselves; officers may record a bid for anyone (called out in chat, or relayed).

ns.defineEntry("bid", {
  right = "member",
  permit = function(data, actor, isOfficer)
    if isOfficer or actor.name == data.bidder then return true end
    return false, "members may bid only as themselves"
  end,
  validate = function(data)
    if not validText(data.auction, 40) then return false, "a bid needs an auction id" end
    if not ns.isValidName(data.bidder) then return false, "a bid needs a bidder" end
    if not ns.isWhole(data.amount, 0, MAX_PRICE) then return false, "a bid is a whole number of points" end
    return true
  end,
  check = function(data, state)
    local a = ns.auction(state, data.auction)
    if not a then return true end  -- known here only from the officer's announcement
    if a.status ~= "open" then return false, "auction #" .. a.num .. " is closed" end
    if data.amount ~= 0 and data.amount < a.min then
      return false, string.format("%d is below the minimum bid of %d", data.amount, a.min)
    end
    return true
  end,
  apply = function(state, data, meta, e)
    local a = state.auctions[data.auction]
    if not a then
      e.summary = "bid on an auction this ledger does not hold (not counted)"
      return
    end
    if type(a) ~= "table" then
      e.summary = string.format("late bid on auction #%d by %s (not counted)", ns.auction(state, data.auction).num, data.bidder)
      return
    end
    a.seq = a.seq + 1
    local i = a.bidIndex[data.bidder]
    if not i then
      i = #a.bids + 1
      a.bidIndex[data.bidder] = i
    end
    a.bids[i] = { bidder = data.bidder, amount = data.amount, seq = a.seq }
    if data.amount == 0 then
      e.summary = string.format("%s withdrew from auction #%d", data.bidder, a.num)
    elseif data.amount < a.min then
      e.summary = string.format("bid by %s on auction #%d below the minimum (not counted)", data.bidder, a.num)
    else
      -- The amount is in the ledger for every client; the summary keeps sealed bids out of sight.
      local shown = a.mode == "open" and tostring(data.amount) or "(sealed)"
      e.summary = string.format("%s bid %s on auction #%d", data.bidder, shown, a.num)
    end
  end,
})

------------------------------------------------------------------------------------------------
-- "close" { auction, winner, price, bids, n1.. }: the result as the closing officer's client
-- computed it from the bids it held; winner "" closes without a sale. n1.. lists the raid
-- that shares the price of a zero-sum auction. The result recorded here is what counts; if the
-- bids in this ledger (a bid that arrived later) give another result, the auction shows it.

ns.defineEntry("close", {
  right = "officer",
  validate = function(data)
    if not validText(data.auction, 40) then return false, "closing needs an auction id" end
    if data.winner ~= "" and not ns.isValidName(data.winner) then return false, "winner must be a name or empty" end
    if not ns.isWhole(data.price, 0, MAX_PRICE) then return false, "price must be a whole number" end
    if data.winner == "" and data.price ~= 0 then return false, "no winner, no price" end
    if not ns.isWhole(data.bids, 0, 10000) then return false, "bids must be a count" end
    for _, name in ipairs(ns.unpackList(data)) do
      if not ns.isValidName(name) then return false, "'" .. name .. "' is not a character name" end
    end
    return true
  end,
  check = function(data, state)
    local a = ns.auction(state, data.auction)
    if not a then return false, "no such auction" end
    if a.status ~= "open" then return false, "auction #" .. a.num .. " is already closed" end
    if a.zerosum and data.winner ~= "" and not data.n1 then return false, "a zero-sum auction needs the raid to share the price" end
    return true
  end,
  apply = function(state, data, meta, e)
    local a = state.auctions[data.auction]
    if type(a) ~= "table" then
      e.summary = "close of an auction that is not open here (no change)"
      return
    end
    local expected, expectedPrice = ns.resolveAuction(a, state)
    a.ranking = ns.rankBids(a, state)  -- as it stood at the close, for "/dkp auction show"
    a.status, a.closeId, a.closed, a.counted = "closed", meta.id, meta.time, data.bids
    if data.winner == "" then
      a.status = "cancelled"
      e.summary = string.format("auction #%d (%s) closed without a sale", a.num, a.item)
    else
      a.winner, a.price = data.winner, data.price
      if expected ~= data.winner or expectedPrice ~= data.price then
        a.mismatch = string.format("the bids in this ledger give %s for %d", tostring(expected), expectedPrice)
      end
      e.summary = string.format("auction #%d (%s) won by %s for %d", a.num, a.item, data.winner, data.price)
      ns.credit(state, e, ns.mainOf(state, data.winner), -data.price, "loot", a.item)
      if a.zerosum then
        for _, share in ipairs(ns.zeroSumShares(state, ns.unpackList(data), data.price)) do
          ns.credit(state, e, share[1], share[2], "zero_sum", a.item)
        end
        state.zeroSumCount = state.zeroSumCount + 1
      end
    end
    state.auctions[data.auction] = packClosed(a)
  end,
})
