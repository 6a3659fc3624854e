# Writes a C++ file holding a Lua source as a byte array: cmake -DINPUT= -DOUTPUT= -DSYMBOL= -P
file(READ "${INPUT}" content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
file(WRITE "${OUTPUT}"
  "// Generated from ${INPUT}; do not edit.\n"
  "#include \"bindings/embedded_lua.hpp\"\n"
  "namespace tally {\n"
  "extern const char ${SYMBOL}[] = {${bytes}0};\n"
  "extern const std::size_t ${SYMBOL}Size = ${size};\n"
  "}\n")
