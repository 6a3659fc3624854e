-- Spinner: runaway code in every place addon code runs, with the JIT compiling by then, and
-- recursion bombs. `/spin <probe>` sets one up; most run on the frames that follow.
local function spin() while true do end end

-- A hot loop at load, so the JIT compiler is recording traces by the time any probe runs.
local warm = 0
for i = 1, 1e4 do warm = warm + i end

local function on_update(fn)
  CreateFrame("Frame"):SetScript("OnUpdate", fn)
end

local probes = {
  ["OnUpdate"] = function() on_update(spin) end,
  ["OnEvent"] = function()
    local frame = CreateFrame("Frame")
    frame:RegisterEvent("GUILD_ROSTER_UPDATE")
    frame:SetScript("OnEvent", spin)
    GuildRoster()
  end,
  ["timer"] = function() C_Timer.After(0, spin) end,
  ["ticker"] = function() C_Timer.NewTicker(0.1, spin) end,
  ["slash command"] = spin,
  ["OnShow"] = function()
    local frame = CreateFrame("Frame")
    frame:SetScript("OnShow", spin)
    frame:Hide()
    frame:Show()
  end,
  ["mutator"] = function()
    local ledger = Tally.NewLedger{ name = "SpinnerOnce" }
    ledger:RegisterMutator("spin", spin)
    ledger:Submit("spin", {})
  end,
  -- The ledger changes every frame, so replay retries the entry that ran too long every frame.
  ["mutator retried"] = function()
    local ledger = Tally.NewLedger{ name = "SpinnerRetried" }
    ledger:RegisterMutator("spin", spin)
    C_Timer.NewTicker(0, function() ledger:Submit("spin", {}) end)
  end,
  -- Asked before every entry leaves the client.
  ["authorize at send"] = function()
    local ledger = Tally.NewLedger{ name = "SpinnerSync", sync = true,
      authorize = function(_, _, stage) if stage == "send" then spin() end return true end }
    C_Timer.NewTicker(1, function() ledger:Submit("tick", {}) end)
  end,
  ["coroutine"] = function() on_update(function() coroutine.wrap(spin)() end) end,
  -- Each kill is caught by resume, and the loop around it starts the next one.
  ["coroutine catch loop"] = function()
    on_update(function() while true do coroutine.resume(coroutine.create(spin)) end end)
  end,
  ["pcall catch loop"] = function() on_update(function() while true do pcall(spin) end end) end,
  ["loadstring"] = function() on_update(function() loadstring("while true do end")() end) end,
  ["sort comparator"] = function()
    on_update(function() table.sort({ 3, 1, 2, 5, 4 }, function() spin() end) end)
  end,
  -- One C call with exponential backtracking: no budget tick runs inside string.find.
  ["pattern backtracking"] = function()
    on_update(function() string.find(string.rep("a", 40), string.rep("a*", 40) .. "b") end)
  end,
  ["recursion"] = function() local function f() return 1 + f() end f() end,
  ["recursion through __index"] = function()
    local t = setmetatable({}, {})
    getmetatable(t).__index = function(s, k) return s[k] end
    return t.x
  end,
  ["recursion through table.sort"] = function()
    local function f() table.sort({ 2, 1 }, function(a, b) f() return a < b end) end
    f()
  end,
  ["recursion through __tostring"] = function()
    local mt = {}
    mt.__tostring = function() return "x" .. tostring(setmetatable({}, mt)) end
    return tostring(setmetatable({}, mt))
  end,
  -- Each level is a C call (gsub) calling back into Lua.
  ["recursion through string.gsub"] = function()
    local function f(s) return (string.gsub(s, ".", f)) end
    f("ab")
  end,
  -- Each level resumes a new coroutine from inside the previous one.
  ["coroutine nesting"] = function()
    local function nest() return coroutine.wrap(nest)() end
    nest()
  end,
  -- Source nested past the parser's limit: refused when compiled. Reports every refusal.
  ["source nesting"] = function()
    local refused = {}
    for _, source in ipairs({ string.rep("do ", 1e5) .. string.rep("end ", 1e5),
                              "return " .. string.rep("(", 1e5) .. "1" .. string.rep(")", 1e5),
                              "return " .. string.rep("{", 1e5) .. string.rep("}", 1e5),
                              "return " .. string.rep("- ", 1e5) .. "1",
                              "return " .. string.rep("1 + ", 1e5) .. "1" }) do
      local f, message = loadstring(source)
      if f then f() else refused[#refused + 1] = message end
    end
    error(table.concat(refused, "; "))
  end,
}

SLASH_SPINNER1 = "/spin"
SlashCmdList.SPINNER = function(name)
  local probe = probes[name]
  if not probe then error("Spinner: no probe named '" .. name .. "'") end
  probe()
end
