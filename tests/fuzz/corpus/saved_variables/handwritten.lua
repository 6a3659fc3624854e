-- a comment the game never writes, but users do
Settings = { 1, 2, 3, [10] = 'ten', nested = { deeper = { [[long
string]], [==[with ]] inside]==] } }; Other = "esc\65\066\x43\z
    continued"
--[[ block
comment ]] Last = { ["a"] = { }, b = -.5, c = 3., d = 1e2 }
