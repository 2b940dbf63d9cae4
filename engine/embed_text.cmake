# Embeds a file as a byte array (ss_natural_raw, ss_natural_raw_len); prompts.c splits it into lines.
file(READ ${IN} _hex HEX)
string(LENGTH "${_hex}" _len2)
math(EXPR _len "${_len2} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" _bytes "${_bytes}")
file(WRITE ${OUT} "/* Generated from experiments/data/natural.txt; do not edit. */\n#include <stddef.h>\n"
  "const unsigned char ss_natural_raw[] = {\n${_bytes}0x00};\nconst size_t ss_natural_raw_len = ${_len};\n")
