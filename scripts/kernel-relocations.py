#!/usr/bin/env python3
"""Share of an x86-64 kernel image's pages that KASLR patches at boot.

Usage: scripts/kernel-relocations.py /boot/vmlinuz-VERSION

A relocatable x86-64 bzImage (CONFIG_RELOCATABLE, CONFIG_X86_NEED_RELOCS) carries vmlinux
followed by the table of its absolute relocations (arch/x86/tools/relocs), compressed
together. At boot with KASLR (CONFIG_RANDOMIZE_BASE) the decompressor moves the kernel to
a random virtual offset and adds that offset at every address in the table
(arch/x86/boot/compressed/misc.c, handle_relocations), so a 4 KiB page of the image that
holds at least one relocation has different bytes in two boots; the other pages are the
same in every boot of that kernel. This script decompresses the payload, reads the table
(from the end: 32-bit relocations, then the inverse 32-bit ones, then the 64-bit ones, each
list ending with a zero entry, every entry a sign-extended 32-bit kernel address) and
counts, per section, the pages that hold an entry.

overcommit's `images[].kernel_relocated` default (59 %) is what it prints for Debian 12's
cloud kernel:  apt-get download linux-image-6.1.0-50-cloud-amd64 && dpkg -x *.deb x &&
scripts/kernel-relocations.py x/boot/vmlinuz-6.1.0-50-cloud-amd64
(.text 2485/3586 pages, .rodata 247/991, .data 315/582: 3047 of 5159 pages, 59.1 %).

The payload is decompressed with Python's gzip, lzma or bz2, or the `lz4` / `zstd`
commands for kernels compressed with those.
"""
import bz2
import gzip
import lzma
import struct
import subprocess
import sys


def payload(image: bytes) -> bytes:
    """The compressed kernel inside a bzImage (boot protocol >= 2.08 header fields)."""
    if image[0x202:0x206] != b"HdrS":
        sys.exit("not a bzImage (no HdrS boot header)")
    setup_sects = image[0x1F1] or 4
    offset, length = struct.unpack_from("<II", image, 0x248)
    start = (setup_sects + 1) * 512 + offset
    return image[start:start + length]


def decompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:1] == b"\x5d":
        return lzma.decompress(data, format=lzma.FORMAT_ALONE)
    for magic, cmd in ((b"\x02\x21\x4c\x18", ["lz4", "-dc"]), (b"\x28\xb5\x2f\xfd", ["zstd", "-dc"])):
        if data[:4] == magic:
            # The kernel's legacy lz4 and zstd frames are read by the command-line tools.
            r = subprocess.run(cmd, input=data, capture_output=True)
            if not r.stdout:
                sys.exit(f"{cmd[0]} could not decompress the payload: {r.stderr.decode().strip()}")
            return r.stdout
    sys.exit("unknown compression of the kernel payload")


def sections(elf: bytes):
    """(name, address, size) of the ELF64 section headers."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    heads = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab = heads[shstrndx]
    names = elf[strtab[4]:strtab[4] + strtab[5]]
    for h in heads:
        name = names[h[0]:names.index(b"\0", h[0])].decode()
        yield name, h[3], h[5]


def relocations(blob: bytes):
    """Every address of the three tables at the end of the decompressed image."""
    pos = len(blob) - 4
    out = []
    for _ in range(3):
        while True:
            v, = struct.unpack_from("<I", blob, pos)
            pos -= 4
            if v == 0:
                break
            out.append((v - (1 << 32) if v & 0x80000000 else v) & ((1 << 64) - 1))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    blob = decompress(payload(open(sys.argv[1], "rb").read()))
    if blob[:4] != b"\x7fELF":
        sys.exit("the payload is not an ELF vmlinux")
    relocs = relocations(blob)
    total = hit = 0
    print(f"{len(relocs)} relocations")
    for name, addr, size in sections(blob):
        if name not in (".text", ".rodata", ".data") or size == 0:
            continue
        pages = (size + 4095) // 4096
        touched = {(a - addr) // 4096 for a in relocs if addr <= a < addr + size}
        total += pages
        hit += len(touched)
        print(f"{name:8} {len(touched):6} of {pages:6} pages hold a relocation ({100 * len(touched) / pages:.1f} %)")
    print(f"together {hit} of {total} pages ({100 * hit / total:.1f} %)")


if __name__ == "__main__":
    main()
