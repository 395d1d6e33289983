# cmake -DIN=<file> -DOUT=<file.inc> -DVAR=<name> -P embed_file.cmake
# Writes `static const unsigned char <VAR>[] = {...};` holding IN's bytes, so
# data files are compiled into the binary without a runtime path.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "// Generated from ${IN}; do not edit.\nstatic const unsigned char ${VAR}[] = {\n${bytes}\n};\n")
