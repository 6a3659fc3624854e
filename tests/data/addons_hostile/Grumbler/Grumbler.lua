-- Grumbler: errors, and error handlers that fail themselves. `/grumble <probe>` installs a
-- handler or raises an error; most also raise one error per frame from then on.
local function every_frame(fn)
  CreateFrame("Frame"):SetScript("OnUpdate", fn)
end

local function raise_each_frame(value)
  every_frame(function() error(value, 0) end)
end

local probes = {
  ["error in error handler"] = function()
    seterrorhandler(function() error("the handler broke") end)
    raise_each_frame("first")
  end,
  ["error handler that spins"] = function()
    seterrorhandler(function() while true do end end)
    raise_each_frame("first")
  end,
  ["error handler that rethrows"] = function()
    seterrorhandler(function(message) error(message, 0) end)
    raise_each_frame("again")
  end,
  ["error handler that replaces itself"] = function()
    local function handler()
      seterrorhandler(function() seterrorhandler(handler) error("swapped") end)
      error("swapping")
    end
    seterrorhandler(handler)
    raise_each_frame("start")
  end,
  ["error object whose __tostring errors"] = function()
    raise_each_frame(setmetatable({}, { __tostring = function() error("no text for you") end }))
  end,
  ["error object whose __tostring spins"] = function()
    raise_each_frame(setmetatable({}, { __tostring = function() while true do end end }))
  end,
  ["error objects of every type"] = function()
    local values = { nil, true, 42, print, coroutine.create(print), {}, CreateFrame("Frame") }
    local i = 0
    every_frame(function()
      i = i % 7 + 1
      error(values[i], 0)
    end)
  end,
  -- The error messages go to the client's log, outside the Lua heap: n MiB on each of 50 frames.
  ["error flood"] = function(n)
    local frames = 50
    every_frame(function()
      frames = frames - 1
      if frames >= 0 then error(string.rep("e", n * 2 ^ 20), 0) end
    end)
  end,
}

SLASH_GRUMBLER1 = "/grumble"
SlashCmdList.GRUMBLER = function(text)
  local name, n = string.match(text, "^(.-)%s+(%d+)$")
  local probe = probes[name or text]
  if not probe then error("Grumbler: no probe named '" .. text .. "'") end
  probe(tonumber(n))
end
