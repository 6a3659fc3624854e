-- Hoarder: memory bombs, and SavedVariables that cannot be saved as they are. `/hoard <probe>
-- [n]` sets one up; the SavedVariables probes take effect when the client logs out.
local function on_update(fn)
  CreateFrame("Frame"):SetScript("OnUpdate", fn)
end

-- Runs fn on each of the next `frames` frames.
local function for_frames(frames, fn)
  local frame = CreateFrame("Frame")
  frame:SetScript("OnUpdate", function()
    frames = frames - 1
    if frames < 0 then frame:SetScript("OnUpdate", nil) else fn() end
  end)
end

local frame = CreateFrame("Frame")
frame:RegisterEvent("ADDON_LOADED")
frame:SetScript("OnEvent", function(_, _, name)
  if name == "Hoarder" then
    HoarderDB = HoarderDB or {}
    HoarderDB.sessions = (HoarderDB.sessions or 0) + 1
  end
end)

local probes = {
  ["table growth"] = function() local t = {} for i = 1, 1e9 do t[i] = { i, string.rep("x", 16384) .. i } end end,
  ["string growth"] = function() local s = "x" while true do s = s .. s end end,
  ["string.rep"] = function() return string.rep("x", 2 ^ 30) end,
  -- Keeps what it grabbed: the client's heap stays at its limit from then on.
  ["retained growth"] = function()
    HoarderKeep = {}
    on_update(function() for i = 1, 1e5 do HoarderKeep[#HoarderKeep + 1] = { i } end end)
  end,
  -- Source text compiles through the instrumentation, which builds its own copies outside
  -- the Lua heap: n repetitions of a tiny block.
  ["loadstring amplification"] = function(n) return loadstring(string.rep("do end ", n)) end,
  -- The log lines live outside the Lua heap: n MiB on each of 50 frames.
  ["print flood"] = function(n) for_frames(50, function() print(string.rep("x", n * 2 ^ 20)) end) end,
  ["cycle"] = function()
    HoarderDB.loop = HoarderDB
    local a, b = {}, {}
    a.next, b.next = b, a
    HoarderDB.pair = a
  end,
  ["unsavable values"] = function()
    HoarderDB.fn = print
    HoarderDB.thread = coroutine.create(print)
    HoarderDB.inf, HoarderDB.nan = 1 / 0, 0 / 0
    HoarderDB[{}] = "table key"
  end,
  ["string over the file limit"] = function() HoarderDB.big = string.rep("x", 17 * 2 ^ 20) end,
  -- n + 1 tables, each holding the next twice: written out, 2^n copies of the innermost.
  ["shared tables"] = function(n)
    local t = { "leaf" }
    for _ = 1, n do t = { t, t } end
    HoarderDB.shared = t
  end,
  ["deep nesting"] = function(n)
    local t = {}
    HoarderDB.deep = t
    for _ = 1, n do t.down = {} t = t.down end
  end,
}

SLASH_HOARDER1 = "/hoard"
SlashCmdList.HOARDER = function(text)
  local name, n = string.match(text, "^(.-)%s+(%d+)$")
  local probe = probes[name or text]
  if not probe then error("Hoarder: no probe named '" .. text .. "'") end
  probe(tonumber(n))
end
