"""Sets VER_FLG_WEAK on one version requirement in an ELF64 file's .gnu.version_r section.

A weak version requirement lets the dynamic loader accept a library that lacks that version;
symbols still bound to it must be unversioned separately (patchelf --clear-symbol-version).
"""
import struct
import sys

VER_FLG_WEAK = 0x2


def main(path: str, version: str) -> None:
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            sys.exit(f"{path}: not a little-endian ELF64 file")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

        def section(i):
            return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)

        SHT_GNU_verneed = 0x6FFFFFFE
        for i in range(shnum):
            _, sh_type, _, _, off, _, link, info, _, _ = section(i)
            if sh_type != SHT_GNU_verneed:
                continue
            stroff = section(link)[4]
            pos = off
            for _ in range(info):
                _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, pos)
                apos = pos + aux
                for _ in range(cnt):
                    _, flags, _, name, anext = struct.unpack_from("<IHHII", data, apos)
                    end = data.index(0, stroff + name)
                    if data[stroff + name:end].decode() == version:
                        struct.pack_into("<H", data, apos + 4, flags | VER_FLG_WEAK)
                        f.seek(0)
                        f.write(data)
                        return
                    apos += anext
                pos += nxt
        sys.exit(f"{path}: no version requirement named {version}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
