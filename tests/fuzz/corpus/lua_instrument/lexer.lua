-- BOM, long strings and comments with levels
local s = [==[
]] do end ]=]
]==]
--[[ do
repeat ]]
local e = "\z
   do \"end\" \
repeat"
local h = 0x1p4 + 1e-3 + 0xffULL + 2LL + 3i
-- ends in a comment