-- GuildDKP: the points ledger, its entry types and the state they derive.
local addonName, ns = ...

-- Points are integers; decay rounds toward zero so every client gets the same integers.
local function decayed(points, percent)
  local kept = points * (100 - percent)
  if kept >= 0 then return math.floor(kept / 100) end
  return -math.floor(-kept / 100)
end
ns.decayed = decayed

local function new_state()
  return { points = {}, history = {} }
end

local function add(state, player, amount, reason, meta)
  state.points[player] = (state.points[player] or 0) + amount
  local h = state.history[player]
  if not h then
    h = {}
    state.history[player] = h
  end
  h[#h + 1] = { time = meta.time, amount = amount, reason = reason, balance = state.points[player] }
end

-- Entries are created only after ADDON_LOADED, when the SavedVariables are in place.
local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(self, event, name)
  if name ~= addonName then return end
  GuildDKP_Settings = GuildDKP_Settings or { minimumRank = 0 }
  local ledger = Tally.NewLedger{
    name = "GuildDKP",
    persist = true,
    initialState = new_state,
    authorize = function(entry)
      if entry.type == "award" or entry.type == "spend" then
        local amount = entry.data.amount
        if type(amount) ~= "number" or amount ~= math.floor(amount) or amount <= 0 then
          return false, "amount must be a positive whole number"
        end
      elseif entry.type == "decay" then
        local percent = entry.data.percent
        if type(percent) ~= "number" or percent <= 0 or percent > 100 then
          return false, "decay percent must be in 1..100"
        end
      end
      return true
    end,
  }
  ledger:RegisterMutator("award", function(state, data, meta)
    add(state, data.player, data.amount, data.reason, meta)
  end)
  ledger:RegisterMutator("spend", function(state, data, meta)
    add(state, data.player, -data.amount, data.item or "spend", meta)
  end)
  ledger:RegisterMutator("decay", function(state, data, meta)
    -- Sorted names: the order must not depend on pairs(), whose order differs per client.
    local names = {}
    for player in pairs(state.points) do names[#names + 1] = player end
    table.sort(names)
    for _, player in ipairs(names) do
      local before = state.points[player]
      add(state, player, decayed(before, data.percent) - before, "decay " .. data.percent .. "%", meta)
    end
  end)
  ns.ledger = ledger
  self:UnregisterEvent("ADDON_LOADED")
end)
